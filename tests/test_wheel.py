"""`pip wheel .` installed into a fresh venv gives a working `tfreeze` (module and
CLI) that needs nothing from the source tree. The wheel is built without pip's
isolation, in the build directory `make setup` keeps (pyproject's build-dir), so
it costs an incremental build, not a second TensorFlow download and a full C++
build in CI; the build requirements themselves are what `make setup` installs
from pyproject.toml."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_runs_outside_the_source_tree(frozen, tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(wheels),
        ],
        check=True,
    )
    (wheel,) = wheels.glob("tfreeze-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True)

    pb = frozen("two_in_two_out").path
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    inspect = subprocess.run(
        [str(env_dir / "bin" / "tfreeze"), "inspect", str(pb), "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [o["name"] for o in json.loads(inspect.stdout)["outputs"]] == ["zeta", "alpha"]
    script = (
        "import tfreeze, sys\n"
        "assert 'site-packages' in tfreeze.__file__, tfreeze.__file__\n"
        f"m = tfreeze.Model({str(pb)!r})\n"
        "out = m.run(m.random_feeds(batch_size=2))\n"
        "print(out['alpha'].shape)\n"
    )
    result = subprocess.run(
        [str(python), "-c", script], cwd=elsewhere, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "(2, 1)"
