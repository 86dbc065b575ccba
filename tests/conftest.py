"""Shared fixtures: each test model is built and frozen once per session."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import pytest

import models
import tfreeze


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
