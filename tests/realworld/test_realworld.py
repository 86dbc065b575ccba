"""Real trained models shipped inside PyPI packages (docs/realworld.md): each
frozen from the CLI, its .pb run by C++ bit-exact against Python TensorFlow's
run of it, and C++ within tolerance of the source's own prediction."""

# ruff: noqa: E501  (the model table reads best one model a line)

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import tfreeze
from tfreeze.cli import main as cli_main
from tfreeze.measure.parity import check_parity

sys.path.insert(0, str(Path(__file__).parent))
from fetch_models import fetch  # noqa: E402

pytestmark = pytest.mark.slow


@dataclass
class RealModel:
    id: str
    path: str  # under build/realworld/models
    kind: str  # the source kind the freezer reports
    shape: tuple[int, ...]  # the parity run's input shape (open sizes the model needs)
    flags: list[str] = field(default_factory=list)  # only what the graph cannot tell
    source_options: dict = field(default_factory=dict)  # the flags, for opening the source again
    # The file holds test vectors (a 128^3 volume is past their budget).
    replays: bool = True


# TF1 training graphs cannot tell outputs from loss nodes, nor that is_training
# must be false: musicnn's own code names both (model/Sigmoid, model/Placeholder_2).
# deepbrain's graph defaults is_training to true and its `pred` needs the label
# from the tf.data pipeline; its own code fetches `prob` with training=False. A
# 128^3 volume: verification at batch 1 only, to keep CI's time.
_DEEPBRAIN = ["--output-names", "prob", "--input-value", "training=false",
              "--verify-shape", "img=1,128,128,128,1"]  # fmt: skip
_MUSICNN = [
    "--output-names",
    "taggram=model/Sigmoid:0",
    "--input-value",
    "model/Placeholder_2=false",
]
_MUSICNN_OPTIONS = {
    "output_names": ["taggram=model/Sigmoid:0"],
    "input_values": {"model/Placeholder_2": False},
}
_DEEPBRAIN_OPTIONS = {"output_names": ["prob"], "input_values": {"training": False}}

MODELS = [
    RealModel("basic-pitch", "basic_pitch/saved_models/icassp_2022/nmp", "saved-model", (1, 43844, 1)),
    RealModel("fer", "fer/data/emotion_model.hdf5", "keras2-h5", (1, 64, 64, 1)),
    RealModel("sleepecg-wrn", "sleepecg/classifiers/wrn-gru-mesa/classifier.keras", "keras-file", (1, 64, 36)),
    RealModel("sleepecg-ws", "sleepecg/classifiers/ws-gru-mesa/classifier.keras", "keras-file", (1, 64, 36)),
    RealModel("tempocnn-cnn", "tempocnn/models/cnn.h5", "keras2-h5", (1, 40, 256, 1)),
    RealModel("tempocnn-fcn", "tempocnn/models/fcn.h5", "keras2-h5", (1, 40, 256, 1)),
    RealModel("tempocnn-shallowtemp", "tempocnn/models/shallowtemp_k1.h5", "keras2-h5", (1, 40, 256, 1)),
    RealModel("tempocnn-deepsquare", "tempocnn/models/deepsquare_k1.h5", "keras2-h5", (1, 40, 256, 1)),
    RealModel("tempocnn-deeptemp", "tempocnn/models/deeptemp_k2.h5", "keras2-h5", (1, 40, 256, 1)),
    RealModel("musicnn", "musicnn/MSD_musicnn", "tf1-checkpoint", (1, 187, 96), _MUSICNN, _MUSICNN_OPTIONS),
    RealModel("musicnn-vgg", "musicnn/MSD_vgg", "tf1-checkpoint", (1, 187, 96), _MUSICNN, _MUSICNN_OPTIONS),
    RealModel("deepbrain", "deepbrain/models/graph.pb", "graph-def", (1, 128, 128, 128, 1), _DEEPBRAIN, _DEEPBRAIN_OPTIONS, replays=False),
]  # fmt: skip


@pytest.fixture(scope="session")
def model_files() -> Path:
    return fetch()


@pytest.mark.parametrize("real", MODELS, ids=[m.id for m in MODELS])
def test_real_model_freezes_and_runs_the_same_in_cpp(real, model_files, tmp_path, capsys):
    source = model_files / real.path
    out = tmp_path / f"{real.id}.pb"
    assert cli_main(["freeze", str(source), "-o", str(out), "--json", *real.flags]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source_kind"] == real.kind
    # The freezer ran the .pb in Python TF against the source's own prediction.
    diffs = [d for per_output in report["verification"].values() for d in per_output]
    assert diffs and all(d["within_tolerance"] for d in diffs), report["verification"]

    model = tfreeze.Model(out)
    if real.replays:
        # C++ replays the source's own outputs stored in the file.
        replay = model.verify()
        assert replay["passed"], replay
    # C++ vs Python TF on the same .pb: bit-exact; vs the source where this process can run it.
    spec = model.inputs[0]
    feeds = {spec.name: np.random.default_rng(1).standard_normal(real.shape).astype(np.float32)}
    keras2 = real.kind == "keras2-h5"  # tf_keras runs only in the freezer's child process
    parity = check_parity(
        None if keras2 else source, out, inputs=feeds, source_options=real.source_options,
        rtol=1e-4, atol=1e-5,
    )  # fmt: skip
    for output in parity.outputs:
        assert output.cpp_vs_python.bit_exact, output.name
        if not keras2:
            assert output.cpp_vs_source.within_tolerance, (output.name, output.cpp_vs_source)
