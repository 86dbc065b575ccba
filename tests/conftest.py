"""Shared fixtures: each test model is built and frozen once per session."""

from __future__ import annotations

import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import pytest
from filelock import FileLock

import models
import tfreeze

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Frozen:
    model: Any  # the Keras model
    path: Path  # its frozen .pb
    report: tfreeze.FreezeReport


@pytest.fixture(scope="session")
def frozen(tmp_path_factory: pytest.TempPathFactory):
    """frozen("cnn") -> Frozen, built on first use and shared afterwards."""
    cache: dict[str, Frozen] = {}

    def get(kind: str) -> Frozen:
        if kind not in cache:
            keras.utils.set_random_seed(0)
            model = getattr(models, kind)()
            path = tmp_path_factory.mktemp(kind) / f"{kind}.pb"
            cache[kind] = Frozen(model, path, tfreeze.freeze(model, path))
        return cache[kind]

    return get


@pytest.fixture(scope="session")
def cpp_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tfreeze's C++ library, headers, CMake package and tools, installed (once per session)."""
    bin_dir = Path(sys.executable).parent
    cmake = str(bin_dir / "cmake") if (bin_dir / "cmake").exists() else "cmake"
    install = tmp_path_factory.mktemp("prefix")
    # `make test` passes its C++ build (tools and install rules on), so CI
    # compiles the library once for both; plain pytest keeps its own.
    build = Path(os.environ.get("TFREEZE_TEST_CPP_BUILD") or ROOT / "build" / "package-test")
    build.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(build.parent / f"{build.name}.lock"):  # pytest-xdist workers share the build
        _build_and_install(cmake, build, install)
    return install


def _build_and_install(cmake: str, build: Path, install: Path) -> None:
    configure = [cmake, "-S", ROOT, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"]
    configure += [f"-DPython_EXECUTABLE={sys.executable}", "-DTFREEZE_BUILD_TESTS=OFF"]
    configure += ["-DTFREEZE_BUILD_TOOLS=ON", "-DTFREEZE_INSTALL=ON"]
    configured = (build / "CMakeCache.txt").exists() and "TFREEZE_TEST_CPP_BUILD" in os.environ
    for command in (
        *([] if configured else [configure]),
        [cmake, "--build", build],
        [cmake, "--install", build, "--prefix", install],
    ):
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"


# The longest test files (--durations in CI), started first: pytest-xdist hands
# whole files to its two workers in collection order, and a long file started
# last would leave one core idle at the end while it runs.
LONGEST_FIRST = (
    "test_wheel.py",
    "test_docs.py",
    "test_zoo.py",
    "test_realworld.py",
    "test_cpp_package.py",
    "test_compile.py",
    "test_bench.py",
    "test_real_model_fixes.py",
    "test_sources.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order
