"""Crafted files that once walked past the unsafe-op policy and the abort
checks (issue 25; the fixtures are in tests/crafted.py). Each is tried the
ways a user opens a file: tfreeze.Model, Model(isolated=True), `tfreeze run`,
`verify` and `inspect`, in child processes, so an abort fails the test
instead of killing pytest. Every way refuses it with a typed error naming the
node; nothing is written, nothing aborts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import tensorflow as tf

import crafted

# Opens each file given, in one process, and prints what happened as JSON.
OPEN_ALL = """
import json, sys, tfreeze
isolated = sys.argv[1] == "isolated"
for path in sys.argv[2:]:
    try:
        tfreeze.Model(path, isolated=isolated)
        outcome = ["loaded", ""]
    except tfreeze.Error as e:
        outcome = [type(e).__name__, str(e)]
    print(json.dumps([path, *outcome]), flush=True)
"""


def open_all(paths, how: str) -> dict[str, tuple[str, str]]:
    result = subprocess.run(
        [sys.executable, "-c", OPEN_ALL, how, *map(str, paths)], capture_output=True, text=True
    )
    assert result.returncode == 0, f"rc {result.returncode}: {result.stderr[-2000:]}"
    return {
        path: (kind, message)
        for path, kind, message in map(json.loads, result.stdout.split("\n")[:-1])
    }


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tfreeze", *args], capture_output=True, text=True, timeout=120
    )


def assert_one_line_refusal(result: subprocess.CompletedProcess, *parts: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.fixture(scope="module")
def crafted_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crafted")
    printed = folder / "printed.txt"
    files = {"print-to-file-twice": (folder / "print.pb", 'node "printer"')}
    files["print-to-file-twice"][0].write_bytes(crafted.print_to_file_twice(printed))
    for name, (build, names) in crafted.CRAFTED_GRAPHS.items():
        (folder / f"{name}.pb").write_bytes(build())
        files[name] = (folder / f"{name}.pb", names)
    return files, printed


def test_the_duplicated_key_is_read_by_tensorflow_as_the_last(crafted_files):
    files, printed = crafted_files
    graph_def = tf.compat.v1.GraphDef.FromString(files["print-to-file-twice"][0].read_bytes())
    printer = next(node for node in graph_def.node if node.name == "printer")
    assert printer.attr["output_stream"].s == f"file://{printed}".encode()


@pytest.mark.parametrize("how", ["in-process", "isolated"])
def test_crafted_graphs_are_refused_naming_the_node(crafted_files, how):
    files, printed = crafted_files
    outcomes = open_all([path for path, _ in files.values()], how)
    for name, (path, names) in files.items():
        kind, message = outcomes[str(path)]
        assert kind in ("LoadError", "UnsafeOpError", "ConstantTooLargeError"), (name, kind)
        assert names in message, (name, message)
    assert not printed.exists()


def test_the_cli_refuses_them_in_one_line(crafted_files):
    files, printed = crafted_files
    duplicated, _ = files["print-to-file-twice"]
    for command in ("run", "verify", "inspect"):
        assert_one_line_refusal(cli(command, str(duplicated)), 'node "printer"', "appears twice")
    through, _ = files["fill-through-identity"]
    assert_one_line_refusal(cli("run", str(through)), 'Fill node "filled"', "1099511627776")
    assert not printed.exists()


@pytest.fixture(scope="module")
def hostile_saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    made = {}
    for kind in ("save", "merge", "in-signature"):
        victim = folder / f"victim-{kind}"
        victim.mkdir()
        (victim / "keep.txt").write_text("the user's file")
        crafted.saved_model_with_main_op(folder / kind, victim / "ckpt", kind)
        made[kind] = (folder / kind, victim)
    return made


def test_a_saved_models_main_op_may_not_write_or_delete(hostile_saved_models):
    outcomes = open_all([d for d, _ in hostile_saved_models.values()], "in-process")
    expected = {
        "save": 'node "writer" (SaveV2',
        "merge": 'node "merger" (MergeV2Checkpoints',
        "in-signature": 'node "writer" (SaveV2',
    }
    for kind, (directory, victim) in hostile_saved_models.items():
        refused, message = outcomes[str(directory)]
        assert refused == "UnsafeOpError" and expected[kind] in message, (kind, message)
        assert "only its restore may touch checkpoints" in message
        assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]


def test_a_plain_tf1_saved_model_still_restores_its_variables(tmp_path):
    import numpy as np

    import tfreeze

    crafted.saved_model_with_main_op(tmp_path / "plain", tmp_path / "unused", "none")
    model = tfreeze.Model(tmp_path / "plain")
    out = model.run({"x": np.array([1.0, 3.0], np.float32)})["y"]
    np.testing.assert_array_equal(out, [3.0, 7.0])  # w = 2.0 came from the checkpoint


def test_inspect_reads_a_saved_model_without_a_session(hostile_saved_models):
    directory, victim = hostile_saved_models["save"]
    result = cli("inspect", str(directory), "--json")
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert [e["name"] for e in described["inputs"]] == ["x"]
    assert ("writer", "SaveV2") in {(u["node"], u["op"]) for u in described["unsafe_ops"]}
    assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]  # the main op never ran
    refused = cli("run", str(directory))
    assert_one_line_refusal(refused, 'node "writer" (SaveV2')


def test_names_from_a_file_cannot_drive_the_terminal(tmp_path):
    path = tmp_path / "escapes.pb"
    path.write_bytes(crafted.terminal_escapes_in_names())
    shown = cli("inspect", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "y\\x1b]0;owned\\x07\\x1b[2J[bold]" in shown.stdout  # shown, markup and all
    refused = cli("run", str(path), "--fetch", "nope\x1b[2J")
    assert refused.returncode == 2 and "\x1b" not in refused.stderr, refused.stderr
