"""Session options from Python: what reaches TensorFlow, and the errors of the
GPU paths on a CPU-only TensorFlow (the GPU runs themselves need a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import tfreeze
from tfreeze._native import _core
from tfreeze.runtime.options import make_options


def parsed(**options) -> tf.compat.v1.ConfigProto:
    config = tf.compat.v1.ConfigProto()
    # The ConfigProto needs a resolved executor: "auto", the default, is chosen per graph.
    options.setdefault("executor", "default")
    config.ParseFromString(_core.serialize_config(make_options(**options)))
    return config


def test_options_encode_as_tensorflow_parses_them():
    config = parsed(
        intra_op_threads=3,
        inter_op_threads=2,
        device="gpu:1",
        gpu_allow_growth=True,
        gpu_memory_fraction=0.25,
        visible_devices="0,1",
        xla=True,
    )
    assert config.intra_op_parallelism_threads == 3
    assert config.inter_op_parallelism_threads == 2
    assert config.allow_soft_placement
    assert config.gpu_options.allow_growth
    assert config.gpu_options.per_process_gpu_memory_fraction == 0.25
    assert config.gpu_options.visible_device_list == "0,1"
    level = config.graph_options.optimizer_options.global_jit_level
    assert level == tf.compat.v1.OptimizerOptions.ON_1


def test_raw_config_proto_is_kept_and_named_options_win():
    raw = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=7, use_per_session_threads=True)
    config = parsed(config_proto=raw.SerializeToString(), intra_op_threads=2)
    assert config.use_per_session_threads
    assert config.intra_op_parallelism_threads == 2


def test_default_options_send_only_the_inference_defaults():
    import tensorflow as tf

    options = make_options(executor="default")  # "auto", the default, is resolved per graph
    config = tf.compat.v1.ConfigProto.FromString(_core.serialize_config(options))
    expected = tf.compat.v1.ConfigProto()
    expected.graph_options.rewrite_options.memory_optimization = (
        expected.graph_options.rewrite_options.NO_MEM_OPT
    )
    assert config == expected


def test_cpu_device_gives_the_same_outputs(frozen):
    path = frozen("cnn").path
    feeds = tfreeze.Model(path).random_feeds(batch_size=2)
    expected = tfreeze.Model(path).run(feeds)["logits"]
    np.testing.assert_array_equal(
        tfreeze.Model(path, device="cpu:0").run(feeds)["logits"], expected
    )


def test_xla_gives_the_same_outputs(frozen):
    """In a child process: XLA's CPU auto-clustering flag is process-wide."""
    import subprocess
    import sys

    script = (
        "import sys, numpy as np, tfreeze\n"
        "plain = tfreeze.Model(sys.argv[1])\n"
        "feeds = plain.random_feeds(batch_size=2)\n"
        "xla = tfreeze.Model(sys.argv[1], xla=True).run(feeds)['logits']\n"
        "np.testing.assert_allclose(xla, plain.run(feeds)['logits'], rtol=1e-4, atol=1e-5)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(frozen("cnn").path)], check=True)


def test_gpu_on_cpu_only_tensorflow_is_a_device_error(frozen):
    with pytest.raises(tfreeze.DeviceError, match=r'"gpu:0" is not available; .* cpu:0') as caught:
        tfreeze.Model(frozen("mlp").path, device="gpu:0")
    assert isinstance(caught.value, tfreeze.LoadError)
    assert "CUDA build: see README, Installing" in str(caught.value)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"device": "tpu"}, "is not one of: cpu, cpu:N, gpu, gpu:N"),
        ({"gpu_memory_fraction": 2.0}, r"gpu_memory_fraction must be in \(0, 1\]"),
        ({"visible_devices": "all"}, "visible_devices must list GPU numbers"),
        ({"config_proto": b"\xff\xff"}, "ConfigProto"),
    ],
)
def test_bad_options_name_the_valid_values(frozen, options, message):
    with pytest.raises(tfreeze.Error, match=message):
        tfreeze.Model(frozen("mlp").path, **options)


def test_unknown_option_is_a_type_error(frozen):
    with pytest.raises(TypeError, match="threads"):
        tfreeze.Model(frozen("mlp").path, threads=2)


def test_cli_takes_device_and_xla(frozen):
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfreeze",
            "bench",
            str(frozen("mlp").path),
            "--device",
            "cpu",
            "--xla",
            "--iterations",
            "10",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(result.stdout)["iterations"] == 10
    failed = subprocess.run(
        [sys.executable, "-m", "tfreeze", "run", str(frozen("mlp").path), "--device", "gpu:3"],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and '"gpu:3" is not available' in failed.stderr
