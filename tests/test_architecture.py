"""The package's shape (docs/architecture.md): no import cycles between any two
modules, and each stage imports only the stages below it.

Both checks read the source statically (grimp), so imports made inside
functions count as much as those at the top of a module.
"""

from __future__ import annotations

import graphlib
import os
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
# `from tfreeze import _core` names the compiled extension, which has no .py
# file: the analysis sees an import of the package's public face instead.
NOT_AN_EDGE = {("tfreeze._native", "tfreeze")}


def import_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("tfreeze")
    return {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if (module, imported) not in NOT_AN_EDGE
        }
        for module in graph.modules
    }


def test_the_package_has_no_import_cycles() -> None:
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as error:
        # graphlib lists each module before the one that imports it: reverse
        # so that "a -> b" reads "a imports b".
        pytest.fail("import cycle: " + " -> ".join(reversed(error.args[1])))


def test_the_cycle_check_sees_imports_inside_functions() -> None:
    graph = import_graph()
    # Imported lazily, inside run(): must still be an edge.
    assert "tfreeze.measure.parity" in graph["tfreeze.cli.parity"]
    assert "tfreeze.runtime.python_session" in graph["tfreeze.freezer.verification"]


def test_stages_import_only_downwards() -> None:
    """The layers contract in pyproject.toml: runtime never imports the freezer,
    nothing imports the command line, and so on."""
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_public_names_survive_the_regrouping() -> None:
    """What users' code and the docs name stays where it was."""
    from importlib.metadata import entry_points

    import tfreeze
    from tfreeze.parity import ParityReport, check_parity
    from tfreeze.testing import ParityError, assert_parity

    assert callable(tfreeze.freeze) and tfreeze.freeze.__module__ == "tfreeze.freezer.pipeline"
    assert tfreeze.Model.__module__ == "tfreeze.runtime.model"
    assert callable(check_parity) and ParityReport.__name__ == "ParityReport"
    assert callable(assert_parity) and issubclass(ParityError, AssertionError)
    (script,) = entry_points(group="console_scripts", name="tfreeze")
    assert script.value == "tfreeze.cli:main" and callable(script.load())
    (plugin,) = entry_points(group="pytest11", name="tfreeze")
    assert hasattr(plugin.load(), "tfreeze_parity")
