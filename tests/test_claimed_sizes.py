"""Constants whose shape claims far more memory than the file holds (issue 26,
item 4; builders in tests/crafted.py): a TensorProto of shape [2**30] with one
value is a few bytes in the file and 4 GiB once TensorFlow fills it in. They
are refused at load before anything is allocated, listed by `inspect`, and
the limit is an option; memory that still runs out is a typed, one-line
error. Every load runs in a child process that reports its peak memory, so a
regression fails the test instead of taking the machine's memory."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import crafted

GIB = 2**30

# Loads argv[2] with the JSON keywords in argv[3], runs it once, and prints
# the outcome and the process's peak resident memory as JSON.
LOAD_AND_RUN = """
import json, sys
import numpy as np
import tfreeze
outcome = {}
try:
    options = json.loads(sys.argv[3])
    model = tfreeze.Model(sys.argv[2], isolated=sys.argv[1] == "isolated", **options)
    outcome["loaded"] = True
    if sys.argv[4] == "run":
        outcome["y"] = model.run({"x": np.array([1.0, 2.0], np.float32)})["y"].tolist()
except tfreeze.Error as e:
    outcome.update(kind=type(e).__name__, message=str(e), code=e.code,
                   memory_error=isinstance(e, MemoryError))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child of a
# large pytest worker would report the worker's peak.
with open("/proc/self/status") as status:
    peak_kb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
outcome["peak_bytes"] = peak_kb * 1024
print(json.dumps(outcome))
"""


def load(path, how="in-process", run=True, **options) -> dict:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_AND_RUN,
            how,
            str(path),
            json.dumps(options),
            "run" if run else "load",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"rc {result.returncode}: {result.stderr[-2000:]}"
    return json.loads(result.stdout.splitlines()[-1])


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfreeze", *args], capture_output=True, text=True, timeout=120
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    [line] = result.stderr.strip().splitlines()
    assert "unexpected" not in line and all(part in line for part in parts), line


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("claimed")
    built = {
        "4-gib": crafted.broadcast_constant(GIB),
        "2-pow-62": crafted.broadcast_constant(2**62),
        "in-a-function": crafted.broadcast_constant_in_a_function(GIB),
        "zeros": crafted.broadcast_constant(1000 * 1000, values=(0.0,)),  # tf.zeros, folded
        "512-mib": crafted.broadcast_constant(2**27),
    }
    for name, data in built.items():
        (folder / f"{name}.pb").write_bytes(data)
    return {name: folder / f"{name}.pb" for name in built}


@pytest.mark.parametrize("how", ["in-process", "isolated"])
def test_claims_past_the_limit_are_refused_before_allocating(files, how):
    for name, names in [
        ("4-gib", 'Const node "big" claims float32 [1073741824]'),
        ("2-pow-62", "[4611686018427387904], 2^64 bytes or more"),
        ("in-a-function", 'node "big" in function "'),
    ]:
        outcome = load(files[name], how)
        assert outcome["kind"] == "ConstantTooLargeError", (name, outcome)
        assert names in outcome["message"] and "\n" not in outcome["message"], outcome
        assert "max_constant_bytes" in outcome["message"]
        assert outcome["code"] == "RESOURCE_EXHAUSTED"
        assert outcome["peak_bytes"] < GIB, (name, outcome["peak_bytes"])


def test_a_saved_models_graph_is_checked_before_its_loader_runs(tmp_path):
    from tensorflow.core.protobuf import saved_model_pb2

    crafted.saved_model_with_main_op(tmp_path / "saved", tmp_path / "unused", "none")
    path = tmp_path / "saved" / "saved_model.pb"
    saved = saved_model_pb2.SavedModel.FromString(path.read_bytes())
    payload = next(n for n in saved.meta_graphs[0].graph_def.node if n.name == "payload")
    payload.attr["value"].tensor.CopyFrom(crafted.claimed_tensor(GIB))
    path.write_bytes(saved.SerializeToString())
    outcome = load(tmp_path / "saved", run=False)
    assert outcome["kind"] == "ConstantTooLargeError", outcome
    assert 'Const node "payload" claims float32 [1073741824]' in outcome["message"]


def test_a_folded_tf_zeros_constant_still_loads_and_runs(files):
    outcome = load(files["zeros"])
    assert outcome.get("y") == [3.0, 5.0], outcome  # 2x + 1 + min(zeros)


def test_the_option_and_config_files_set_the_limit(files, tmp_path):
    refused = load(files["zeros"], max_constant_bytes=2**20)
    assert refused["kind"] == "ConstantTooLargeError", refused
    assert "at most 1048576 bytes (1.0 MiB), Options::max_constant_bytes" in refused["message"]
    config = tmp_path / "roomy.json"
    config.write_text(
        json.dumps({"format": "tfreeze.config", "options": {"max_constant_bytes": 8 << 20}})
    )
    assert load(files["zeros"], max_constant_bytes=2**20, config=str(config)).get("y") == [3.0, 5.0]
    # 512 MiB: past the default, loaded (not run: nothing is allocated) when allowed.
    assert load(files["512-mib"], run=False)["kind"] == "ConstantTooLargeError"
    allowed = load(files["512-mib"], run=False, max_constant_bytes=GIB)
    assert allowed.get("loaded") and allowed["peak_bytes"] < GIB, allowed


@pytest.mark.parametrize("how", ["in-process", "isolated"])
def test_memory_that_runs_out_is_a_typed_one_line_error(files, how):
    outcome = load(files["2-pow-62"], how, max_constant_bytes="unlimited")
    assert outcome["kind"] == "OutOfMemoryError", outcome
    assert outcome["memory_error"] and outcome["code"] == "RESOURCE_EXHAUSTED"
    assert "\n" not in outcome["message"], outcome["message"]


def test_an_allocation_refused_by_the_memory_limit_is_one_line(files):
    outcome = load(
        files["4-gib"], "isolated", max_constant_bytes="unlimited", memory_limit_bytes=3 * GIB
    )
    assert outcome["kind"] in ("RunError", "OutOfMemoryError"), outcome
    assert "\n" not in outcome["message"] and "dtype: DT_FLOAT" not in outcome["message"]


def test_the_cli_refuses_in_one_line_and_inspect_lists_them(files):
    assert_one_line_refusal(cli("run", str(files["4-gib"])), 'node "big"', "4294967296 bytes")
    described = json.loads(cli("inspect", str(files["4-gib"]), "--json").stdout)
    [big] = described["expanded_constants"]
    assert (big["node"], big["dtype"], big["shape"], big["bytes"]) == (
        "big",
        "float32",
        [GIB],
        4 * GIB,
    )
    assert big["bytes_in_file"] < 32 and described["constant_limit_bytes"] == 256 << 20
    shown = cli("inspect", str(files["in-a-function"]))
    assert shown.returncode == 0 and "refused at load" in shown.stdout, shown.stderr


def test_make_options_takes_a_byte_count_or_unlimited():
    from tfreeze.runtime.options import make_options

    assert make_options().max_constant_bytes == 0
    assert make_options(max_constant_bytes="unlimited").max_constant_bytes == 2**64 - 1
    assert make_options(max_constant_bytes=4096).max_constant_bytes == 4096
    for wrong in (0, -1, "lots", True):
        with pytest.raises(ValueError, match="max_constant_bytes"):
            make_options(max_constant_bytes=wrong)
