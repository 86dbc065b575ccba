"""The bad-input catalog (docs/reliability.md): what careless or hostile callers
give tfreeze, and the typed error each gets. Every case runs here; the table in
the docs is generated from CASES, so the two cannot drift.

A case whose ``error`` is None is input that must simply work (NaN, batch 0, a
read-only or strided array, strings that are not UTF-8): its action checks the
result itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tfreeze
from tfreeze.signature import SIGNATURE_NODE


@dataclass(frozen=True)
class Case:
    id: str
    area: str  # load | feed | options | freeze | cli
    what: str  # the bad input, as its caller would describe it
    error: type[BaseException] | None  # None: must run
    message: str  # a regular expression the error's message matches
    act: Callable[[Fixtures], Any]


@dataclass
class Fixtures:
    mlp: Path  # one float input "features" [?, 12] -> "scores" [?, 3]
    text: Path  # one string input "text" [?, 1]
    pair: Path  # two inputs, two outputs
    keras_mlp: Any
    scratch: Path

    def write(self, name: str, data: bytes) -> Path:
        path = self.scratch / name
        path.write_bytes(data)
        return path

    def edited(self, name: str, edit: Callable[[Any], None]) -> Path:
        """The MLP's GraphDef after ``edit`` (which changes it in place)."""
        import tensorflow as tf

        graph = tf.compat.v1.GraphDef.FromString(self.mlp.read_bytes())
        edit(graph)
        return self.write(name, graph.SerializeToString())

    def run_mlp(self, value: Any, **run: Any) -> dict[str, np.ndarray]:
        return tfreeze.Model(self.mlp).run({"features": value}, **run)


def _features(batch: int = 2) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((batch, 12)).astype(np.float32)


def _flip_bits(data: bytes, seed: int, flips: int = 8) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = bytearray(data)
    for position in rng.integers(0, len(buffer), flips):
        buffer[position] ^= 1 << int(rng.integers(0, 8))
    return bytes(buffer)


def _signature_node(graph: Any) -> Any:
    return next(node for node in graph.node if node.name == SIGNATURE_NODE)


def _set_signature(graph: Any, text: bytes) -> None:
    _signature_node(graph).attr["value"].tensor.string_val[0] = text


def _rename_signature_tensor(graph: Any) -> None:
    node = _signature_node(graph)
    signature = json.loads(node.attr["value"].tensor.string_val[0])
    signature["outputs"][0]["tensor"] = "no_such_node:0"
    node.attr["value"].tensor.string_val[0] = json.dumps(signature).encode()


def _unknown_op(graph: Any) -> None:
    next(node for node in graph.node if node.op == "MatMul").op = "NoSuchOpAnywhere"


def _drop_signature(graph: Any) -> None:
    graph.node.remove(_signature_node(graph))


def _bit_flips_never_crash(f: Fixtures) -> None:
    """50 corrupted copies: each loads and runs, or is a tfreeze error; nothing else."""
    data = f.mlp.read_bytes()
    for seed in range(50):
        path = f.write(f"flipped{seed}.pb", _flip_bits(data, seed))
        with contextlib.suppress(tfreeze.Error):
            tfreeze.Model(path).run({"features": _features()})


def _unreadable(f: Fixtures) -> None:
    """root reads any file, so as root the load is tried in a forked child
    that became user nobody (it only opens the file: no TensorFlow runs)."""
    path = f.write("locked.pb", f.mlp.read_bytes())
    path.chmod(0)
    if os.geteuid() != 0:
        tfreeze.Model(path)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        message = "loaded"
        try:
            os.setuid(65534)
            tfreeze.Model(path)
        except Exception as error:
            message = f"{type(error).__name__} {error}"
        os.write(writer, message.encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader) as pipe:
        kind, _, message = pipe.read().partition(" ")
    raise getattr(tfreeze, kind, AssertionError)(message or kind)


def _check_nan_propagates(f: Fixtures) -> None:
    features = _features()
    features[0, 0], features[1, 0] = np.nan, np.inf
    scores = f.run_mlp(features)["scores"]
    assert np.isnan(scores[0]).all(), scores  # NaN in a row poisons that row's scores
    assert not np.isfinite(scores[1]).all()


def _check_same_as_contiguous(f: Fixtures, view: np.ndarray) -> None:
    expected = f.run_mlp(np.ascontiguousarray(view))["scores"]
    np.testing.assert_array_equal(f.run_mlp(view)["scores"], expected)


def _read_only(f: Fixtures) -> None:
    features = _features()
    features.flags.writeable = False
    _check_same_as_contiguous(f, features)


def _big_endian(f: Fixtures) -> None:
    _check_same_as_contiguous(f, _features().astype(">f4"))


def _batch_zero(f: Fixtures) -> None:
    assert f.run_mlp(np.zeros((0, 12), np.float32))["scores"].shape == (0, 3)


def _python_list(f: Fixtures) -> None:
    features = _features()
    np.testing.assert_array_equal(
        f.run_mlp(features.tolist())["scores"], f.run_mlp(features)["scores"]
    )


def _strings(f: Fixtures, values: list[bytes]) -> None:
    outputs = tfreeze.Model(f.text).run({"text": np.array(values, dtype=object).reshape(-1, 1)})
    assert all(len(value) == len(values) for value in outputs.values())


def _misaligned(values: np.ndarray) -> np.ndarray:
    raw = tfreeze.empty_aligned(values.nbytes + 64, np.uint8)
    shifted = raw[4 : 4 + values.nbytes].view(values.dtype).reshape(values.shape)
    shifted[...] = values
    return shifted


def _run_after_close(f: Fixtures) -> None:
    with tfreeze.Model(f.mlp) as model:
        model.run({"features": _features()})
    model.run({"features": _features()})


def _huge_strided_batch() -> np.ndarray:
    one = np.zeros(1, np.float32)
    return np.lib.stride_tricks.as_strided(one, shape=(2**40, 12), strides=(0, 0))


def _freeze_no_file_left(f: Fixtures, source: Any, out: Path, **options: Any) -> None:
    try:
        tfreeze.freeze(source, out, **options)
    finally:
        assert not out.exists(), "a failed freeze left a file behind"


def _freeze_makes_the_folder(f: Fixtures) -> None:
    out = f.scratch / "new" / "folder" / "x.pb"
    tfreeze.freeze(f.keras_mlp, out, optimize=False)
    assert tfreeze.Model(out).input_names == ["features"]


def _unbuilt_sequential(f: Fixtures) -> None:
    import keras

    _freeze_no_file_left(f, keras.Sequential([keras.layers.Dense(3)]), f.scratch / "u.pb")


def _cli(*argv: str) -> Callable[[Fixtures], None]:
    """Runs ``tfreeze ARGV`` in-process ({mlp}, {scratch} filled in); a failure
    must be exit 2 with one line on stderr, raised here as CliError."""

    def act(f: Fixtures) -> None:
        import contextlib
        import io

        from tfreeze import cli

        args = [a.format(mlp=f.mlp, scratch=f.scratch) for a in argv]
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = cli.main(args)
            except SystemExit as exit:  # argparse's usage errors
                code = exit.code
        lines = stderr.getvalue().strip().splitlines()
        assert code == 2, (code, lines)
        assert "Traceback" not in stderr.getvalue()
        raise CliError(lines[-1])

    return act


class CliError(Exception):
    """A CLI failure's last stderr line, so cases can match it like any error."""


# One case a line or two: the table reads best wide.
# fmt: off
CASES = [
    # Loading: the path and the bytes behind it.
    Case("missing-file", "load", "a path that does not exist", tfreeze.ModelFileNotFoundError,
         "does not exist", lambda f: tfreeze.Model(f.scratch / "nope.pb")),
    Case("empty-file", "load", "an empty file", tfreeze.LoadError,
         "empty", lambda f: tfreeze.Model(f.write("empty.pb", b""))),
    Case("directory", "load", "a directory", tfreeze.LoadError,
         "directory", lambda f: tfreeze.Model(f.scratch)),
    Case("file-as-folder", "load", "a path through a file (model.pb/x)", tfreeze.ModelFileNotFoundError,
         "does not exist", lambda f: tfreeze.Model(f.mlp / "x")),
    Case("unreadable", "load", "a file its user may not read (mode 000)",
         tfreeze.ModelFileNotFoundError, "cannot be read", _unreadable),
    Case("device", "load", "/dev/zero (endless bytes)", tfreeze.LoadError,
         "not a regular file", lambda f: tfreeze.Model("/dev/zero")),
    Case("fifo", "load", "a named pipe", tfreeze.LoadError,
         "not a regular file", lambda f: (os.mkfifo(f.scratch / "p.pb"), tfreeze.Model(f.scratch / "p.pb"))),
    Case("nul-byte", "load", "a path with a NUL byte", ValueError,
         "NUL byte", lambda f: tfreeze.Model(str(f.mlp) + "\0.pb")),
    Case("truncated", "load", "a .pb cut in half", tfreeze.LoadError,
         "GraphDef|parse|truncated", lambda f: tfreeze.Model(f.write("half.pb", f.mlp.read_bytes()[: f.mlp.stat().st_size // 2]))),
    Case("random-bytes", "load", "4 KiB of random bytes", tfreeze.LoadError,
         "GraphDef|parse", lambda f: tfreeze.Model(f.write("random.pb", np.random.default_rng(1).bytes(4096)))),
    Case("bit-flips", "load", "50 copies with 8 flipped bits each: load and run", None,
         "", _bit_flips_never_crash),
    Case("pbtxt-as-binary", "load", "a text GraphDef (.pbtxt)", tfreeze.LoadError,
         "text GraphDef", lambda f: tfreeze.Model(f.write("g.pbtxt", b'node { name: "a" op: "Const" }'))),
    Case("unknown-op", "load", "a graph using an op TensorFlow does not have", tfreeze.LoadError,
         "NoSuchOpAnywhere", lambda f: tfreeze.Model(f.edited("op.pb", _unknown_op))),
    Case("no-signature", "load", "a GraphDef without a tfreeze signature", tfreeze.LoadError,
         "signature", lambda f: tfreeze.Model(f.edited("nosig.pb", _drop_signature))),
    Case("signature-wrong-tensor", "load", "a signature naming a tensor the graph lacks", tfreeze.LoadError,
         "no_such_node", lambda f: tfreeze.Model(f.edited("wrongsig.pb", _rename_signature_tensor))),
    Case("signature-not-json", "load", "a signature that is not JSON", tfreeze.LoadError,
         "invalid signature.*parse error", lambda f: tfreeze.Model(f.edited("badjson.pb", lambda g: _set_signature(g, b"{not json")))),
    Case("signature-not-utf8", "load", "a signature with invalid UTF-8", tfreeze.LoadError,
         "signature", lambda f: tfreeze.Model(f.edited("badutf8.pb", lambda g: _set_signature(g, b'{"\xff\xfe": 1}')))),
    # Feeds.
    Case("unknown-input", "feed", "a feed under a name the model lacks", tfreeze.UnknownNameError,
         'unknown input "image".*inputs are: features', lambda f: tfreeze.Model(f.mlp).run({"image": _features()})),
    Case("missing-input", "feed", "no feed for a required input", tfreeze.InputError,
         'missing input "extra"', lambda f: tfreeze.Model(f.pair).run({"tokens": np.zeros((1, 6), np.float32)})),
    Case("wrong-dtype", "feed", "float64 for a float32 input", tfreeze.DTypeError,
         "expected float32 .* got float64", lambda f: f.run_mlp(_features().astype(np.float64))),
    Case("wrong-rank", "feed", "a rank-1 array for [?, 12]", tfreeze.ShapeError,
         r"expected float32 \[\?,12\], got float32 \[12\]", lambda f: f.run_mlp(np.zeros(12, np.float32))),
    Case("wrong-dims", "feed", "[2, 11] for [?, 12]", tfreeze.ShapeError,
         r"got float32 \[2,11\]", lambda f: f.run_mlp(np.zeros((2, 11), np.float32))),
    Case("scalar", "feed", "a Python float for [?, 12]", tfreeze.ShapeError,
         r"got float32 \[\]", lambda f: f.run_mlp(3.0)),
    Case("batch-zero", "feed", "a batch of 0 rows", None, "", _batch_zero),
    Case("huge-batch", "feed", "a 2^40-row strided view (48 TiB once copied)", tfreeze.InputError,
         'input "features": a 1099511627776x12 array does not fit in memory',
         lambda f: f.run_mlp(_huge_strided_batch())),
    Case("nan-inf", "feed", "NaN and Inf values", None, "", _check_nan_propagates),
    Case("strided", "feed", "a non-contiguous view (every other column)", None, "",
         lambda f: _check_same_as_contiguous(f, np.repeat(_features(), 2, axis=1)[:, ::2])),
    Case("fortran-order", "feed", "a Fortran-ordered array", None, "",
         lambda f: _check_same_as_contiguous(f, np.asfortranarray(_features()))),
    Case("read-only", "feed", "a read-only array", None, "", _read_only),
    Case("big-endian", "feed", "a big-endian float32 array", None, "", _big_endian),
    Case("python-list", "feed", "a nested Python list", None, "", _python_list),
    Case("object-array", "feed", "an object array of None for a string input", tfreeze.DTypeError,
         "str or bytes elements", lambda f: tfreeze.Model(f.text).run({"text": np.array([[None]], dtype=object)})),
    Case("string-for-float", "feed", "strings for a float input", tfreeze.DTypeError,
         "expected float32", lambda f: f.run_mlp(np.array([["a"] * 12], dtype=object))),
    Case("key-not-a-name", "feed", "a feed keyed by 0 instead of a name", tfreeze.UnknownNameError,
         r"input names \(str\), got int 0; inputs: features", lambda f: tfreeze.Model(f.mlp).run({0: _features()})),
    Case("none", "feed", "None for an input", tfreeze.InputError,
         r'input "features": expected float32 \[\?,12\], got None', lambda f: f.run_mlp(None)),
    Case("bytes-for-float", "feed", "bytes for a float input", tfreeze.DTypeError,
         r"expected float32 \[\?,12\], got bytes", lambda f: f.run_mlp(b"\0" * 48)),
    Case("objects-for-float", "feed", "an object array of floats for a float input", tfreeze.DTypeError,
         r"array of Python objects; convert it first: np.asarray\(value, dtype=np.float32\)",
         lambda f: f.run_mlp(_features().astype(object))),
    Case("ragged-list", "feed", "a ragged nested list", tfreeze.InputError,
         'input "features": a list that is not an array of float32', lambda f: f.run_mlp([[1.0] * 12, [1.0]])),
    Case("misaligned", "feed", "an array 4 bytes past TensorFlow's 64-byte alignment", None, "",
         lambda f: _check_same_as_contiguous(f, _misaligned(_features()))),
    Case("after-close", "feed", "a run after close()", tfreeze.ModelClosedError,
         "this model was closed", _run_after_close),
    Case("invalid-utf8", "feed", "string input bytes that are not UTF-8", None, "",
         lambda f: _strings(f, [b"\xff\xfe", b"ok"])),
    Case("empty-strings", "feed", "empty strings", None, "", lambda f: _strings(f, [b"", b""])),
    Case("list-for-two-inputs", "feed", "one array for a two-input model", tfreeze.InputError,
         "has 2 inputs; pass a dict", lambda f: tfreeze.Model(f.pair).run(np.zeros((1, 4), np.float32))),
    Case("unknown-fetch", "feed", "a fetch the model lacks", tfreeze.UnknownNameError,
         'unknown output "nope".*outputs are: scores', lambda f: f.run_mlp(_features(), fetches=["nope"])),
    Case("fetch-not-a-name", "feed", "fetches=3", TypeError,
         "fetches must be an output name or a list of names, got int", lambda f: f.run_mlp(_features(), fetches=3)),
    # Options.
    Case("negative-threads", "options", "intra_op_threads=-5", ValueError,
         "positive integer", lambda f: tfreeze.Model(f.mlp, intra_op_threads=-5)),
    Case("unknown-executor", "options", "executor='fast'", ValueError,
         "one of default, single_threaded, auto", lambda f: tfreeze.Model(f.mlp, executor="fast")),
    Case("config-missing", "options", "a config file that does not exist", tfreeze.Error,
         "cannot be read", lambda f: tfreeze.Model(f.mlp, config=f.scratch / "nope.json")),
    Case("config-not-json", "options", "a config file that is not JSON", tfreeze.Error,
         "not JSON", lambda f: tfreeze.Model(f.mlp, config=f.write("bad.json", b"{nope"))),
    # Freezing.
    Case("freeze-non-model", "freeze", "freeze(42)", tfreeze.FreezeError,
         "cannot freeze a int; tfreeze takes: a Keras 3 model object",
         lambda f: _freeze_no_file_left(f, 42, f.scratch / "x.pb")),
    Case("freeze-missing-source", "freeze", "a source path that does not exist", FileNotFoundError,
         "does not exist", lambda f: _freeze_no_file_left(f, str(f.scratch / "nope.keras"), f.scratch / "x.pb")),
    Case("freeze-no-inputs", "freeze", "an unbuilt Sequential (no inputs yet)", tfreeze.FreezeError,
         "has no symbolic inputs", _unbuilt_sequential),
    Case("freeze-into-directory", "freeze", "an output path that is a directory", IsADirectoryError,
         "is a directory", lambda f: tfreeze.freeze(f.keras_mlp, f.scratch)),
    Case("freeze-missing-folder", "freeze", "an output in a folder that does not exist yet", None,
         "", _freeze_makes_the_folder),
    Case("freeze-unwritable-place", "freeze", "an output where no file can be made (/proc)", OSError,
         "cannot write .*/proc/tfreeze.pb", lambda f: _freeze_no_file_left(f, f.keras_mlp, Path("/proc/tfreeze.pb"))),
    Case("freeze-garbage-pb", "freeze", "a .pb source that is not a GraphDef", tfreeze.FreezeError,
         "GraphDef|parse", lambda f: _freeze_no_file_left(f, str(f.write("junk.pb", b"junk" * 64)), f.scratch / "x.pb")),
    Case("freeze-unknown-shape-name", "freeze", "input_shapes naming no input", tfreeze.FreezeError,
         "nope", lambda f: _freeze_no_file_left(f, f.keras_mlp, f.scratch / "x.pb", input_shapes={"nope": [1]})),
    # The command line: exit 2, one line, no traceback.
    Case("cli-unknown-command", "cli", "tfreeze freze", CliError,
         "invalid choice.*freeze", _cli("freze")),
    Case("cli-missing-argument", "cli", "tfreeze run (no model)", CliError,
         "required", _cli("run")),
    Case("cli-bad-batch", "cli", "tfreeze bench --batch 0", CliError,
         "positive", _cli("bench", "{mlp}", "--batch", "0")),
    Case("cli-bad-threads", "cli", "tfreeze bench --threads two", CliError,
         "threads", _cli("bench", "{mlp}", "--threads", "two")),
    Case("cli-unknown-input", "cli", "tfreeze run --input nope=x.npy", CliError,
         "nope", _cli("run", "{mlp}", "--input", "nope={scratch}/features.npy")),
    Case("cli-input-not-npy", "cli", "tfreeze run --input features=<empty file>", CliError,
         "not a readable .npy file", _cli("run", "{mlp}", "--input", "features=/dev/null")),
    Case("cli-bad-shape", "cli", "tfreeze freeze --input-shape x=a,b", CliError,
         "input-shape", _cli("freeze", "{mlp}", "-o", "{scratch}/o.pb", "--input-shape", "x=a,b")),
    Case("cli-unwritable-output", "cli", "tfreeze freeze -o /proc/x.pb", CliError,
         "cannot write .*/proc/x.pb", _cli("freeze", "{mlp}", "-o", "/proc/x.pb")),
    Case("cli-inspect-garbage", "cli", "tfreeze inspect <random bytes>", CliError,
         "GraphDef|parse", _cli("inspect", "{scratch}/random.pb")),
]
# fmt: on


@pytest.fixture(scope="module")
def shared(frozen):
    return frozen("mlp"), frozen("text"), frozen("two_in_two_out")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_gets_a_typed_error(case: Case, shared, tmp_path: Path) -> None:
    mlp, text, pair = shared
    fixtures = Fixtures(mlp.path, text.path, pair.path, mlp.model, tmp_path)
    np.save(tmp_path / "features.npy", _features())  # for the CLI cases
    fixtures.write("random.pb", np.random.default_rng(2).bytes(4096))
    if case.error is None:
        case.act(fixtures)
        return
    with pytest.raises(case.error) as raised:
        case.act(fixtures)
    assert re.search(case.message, str(raised.value), re.DOTALL), str(raised.value)


def catalog_markdown() -> str:
    """The docs' table: one row a case."""
    rows = ["| case | input | result |", "| --- | --- | --- |"]
    for case in CASES:
        result = "runs (checked)" if case.error is None else f"`{case.error.__name__}`"
        if case.error is CliError:
            result = "exit 2, one line"
        rows.append(f"| {case.area}: `{case.id}` | {case.what} | {result} |")
    return "\n".join(rows) + "\n"


def test_the_docs_list_every_case():
    doc = (Path(__file__).parent.parent / "docs" / "reliability.md").read_text()
    start, end = "<!-- catalog:start -->\n", "<!-- catalog:end -->"
    assert start in doc and end in doc, "docs/reliability.md lost its catalog markers"
    table = doc.split(start, 1)[1].split(end, 1)[0]
    assert table == catalog_markdown(), (
        'regenerate the table: python -c \'import sys; sys.path.insert(0, "tests"); '
        "import test_bad_input_catalog as c; print(c.catalog_markdown())'"
    )


def test_the_catalog_is_at_least_forty_cases_and_from_every_area():
    assert len(CASES) >= 40
    assert {case.area for case in CASES} == {"load", "feed", "options", "freeze", "cli"}
    assert len({case.id for case in CASES}) == len(CASES)
