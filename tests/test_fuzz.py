"""A seconds-long fuzz run of the Python entry points (tests/fuzz/fuzz_python.py):
the frozen test models, then seeded random mutations of them. Every input must
load and run or raise a tfreeze.Error; a crash or another exception fails."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

FUZZ_SCRIPT = Path(__file__).parent / "fuzz" / "fuzz_python.py"


def _fuzz_module():
    spec = importlib.util.spec_from_file_location("fuzz_python", FUZZ_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mutated_models_give_results_or_typed_errors(frozen, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for kind in ("mlp", "identity"):
        shutil.copy(frozen(kind).path, corpus / f"{kind}.pb")
    counts = _fuzz_module().mutate_for(5.0, [corpus], seed=1)
    # The unmutated seeds run; most mutants are refused with a typed error.
    assert counts["ran"] >= 2
    assert counts["typed_errors"] > 0
    assert counts["executions"] == counts["ran"] + counts["typed_errors"]
