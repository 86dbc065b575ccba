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
    build = ROOT / "build" / "package-test"  # kept between runs: rebuilds are incremental
    for command in (
        [cmake, "-S", ROOT, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release"]
        + [f"-DPython_EXECUTABLE={sys.executable}", "-DTFREEZE_BUILD_TESTS=OFF"]
        + ["-DTFREEZE_BUILD_TOOLS=ON", "-DTFREEZE_INSTALL=ON"],
        [cmake, "--build", build],
        [cmake, "--install", build, "--prefix", install],
    ):
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return install
