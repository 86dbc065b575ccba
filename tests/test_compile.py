"""tfreeze compile: the MLP compiled by XLA at batch sizes 1 and 2, checked
against its Keras model, used through the generated C++ API from a CMake
project, and timed; what XLA cannot compile is refused in one line. A small
model of convolutions, rewritten as matrix products (--conv-as-matmul), is
checked against TensorFlow and compiled. The installed CMake package's
tfreeze_add_compiled_model compiles the MLP at build time. Names from the file
and the command line reach the generated code only escaped or checked: a file
name that is C++ code and signature names that break comments compile, and
the code never runs.

Cost: four compiles sharing one runtime cache (the runtime's 4 core files
into a cache under pytest's tmp: ~35 s of CPU, built two at a time; set
TFREEZE_XLA_RUNTIME_CACHE to keep a warm one between runs; then ~15-25 s per
compile; the CMake one 20-35 s), two small CMake projects (~3-8 s each) and
eight failing configures (~3 s). The CMake function's tests need the installed
C++ package (conftest's cpp_prefix, shared with test_cpp_package.py).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tfreeze
from tfreeze.cli import main
from tfreeze.compile.config import static_io
from tfreeze.errors import CompileError
from tfreeze.signature import IOEntry, Signature

QUIET = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
CMAKE = Path(sys.executable).parent / "cmake"

# A C++ user of the compiled MLP: runs it, then shows which tfreeze error
# class each misuse throws.
API_USER = r"""
#include <iostream>
#include <vector>
#include "mlp.h"

template <typename F> void Expect(const char* label, F call) {
  try { call(); std::cout << label << " no error\n"; }
  catch (const tfreeze::ShapeError& e) { std::cout << label << " ShapeError " << e.what() << "\n"; }
  catch (const tfreeze::UnknownNameError& e) { std::cout << label << " UnknownNameError\n"; }
  catch (const tfreeze::DTypeError& e) { std::cout << label << " DTypeError\n"; }
  catch (const tfreeze::InputError& e) { std::cout << label << " InputError " << e.what() << "\n"; }
}

int main() {
  mlp::Model model(2);
  model.SetInput("features", std::vector<float>(24, 0.5f));
  model.Run();
  for (float v : model.Output<float>("scores")) std::cout << v << " ";
  std::cout << "\n";
  Expect("short", [&] { model.SetInput("features", std::vector<float>(23, 0.5f)); });
  Expect("name", [&] { model.Input<float>("nope"); });
  Expect("dtype", [&] { model.Input<int32_t>("features"); });
  Expect("batch", [&] { mlp::Model other(3); });
}
"""


@pytest.fixture(scope="module")
def runtime_cache(tmp_path_factory) -> dict[str, str]:
    """The environment with TFREEZE_XLA_RUNTIME_CACHE set: the runtime's objects
    are built by this module's first compile and reused by the others."""
    cache = os.environ.get("TFREEZE_XLA_RUNTIME_CACHE") or tmp_path_factory.mktemp("xla")
    return {**os.environ, "TFREEZE_XLA_RUNTIME_CACHE": str(cache)}


def _compile(
    pb: Path, out: Path, env: dict[str, str], *extra: str, cwd: Path | None = None
) -> dict:
    command = [sys.executable, "-m", "tfreeze", "compile", str(pb), "-o", str(out), *extra]
    result = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def compiled(frozen, tmp_path_factory, runtime_cache):
    """(directory, report): the MLP compiled at batch 1 and 2."""
    out = tmp_path_factory.mktemp("compiled") / "mlp"
    return out, _compile(frozen("mlp").path, out, runtime_cache, "--batch", "1,2")


def test_parity_with_the_stored_vectors_at_both_batch_sizes(compiled):
    _, report = compiled
    parity = report["parity"]
    assert report["batches"] == [1, 2]
    assert parity["passed"] and parity["rows"] > 0
    assert parity["max_abs"] <= parity["atol"]


def test_checker_matches_keras_on_new_inputs(compiled, frozen, tmp_path):
    out, _ = compiled
    x = np.random.default_rng(1).normal(size=(2, 12)).astype(np.float32)
    (tmp_path / "x.bin").write_bytes(x.tobytes())
    checker = [str(out / "bin" / "mlp-check"), "2", str(tmp_path / "x.bin"), str(tmp_path / "y")]
    subprocess.run(checker, check=True, env=QUIET)
    got = np.frombuffer((tmp_path / "y").read_bytes(), np.float32).reshape(2, 3)
    np.testing.assert_allclose(got, frozen("mlp").model(x).numpy(), rtol=1e-4, atol=1e-5)


def test_cpp_api_from_a_cmake_project(compiled, tmp_path):
    out, _ = compiled
    (tmp_path / "main.cc").write_text(API_USER)
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(user CXX)\n"
        f'add_subdirectory("{out}" mlp)\n'
        "add_executable(user main.cc)\ntarget_link_libraries(user PRIVATE mlp::mlp)\n"
    )
    build = tmp_path / "b"
    for step in (["-S", tmp_path, "-B", build, "-G", "Ninja"], ["--build", build]):
        result = subprocess.run([str(CMAKE), *map(str, step)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    lines = subprocess.run(
        [str(tmp_path / "b" / "user")], capture_output=True, text=True, env=QUIET, check=True
    ).stdout.splitlines()
    assert len(lines[0].split()) == 6  # 2 rows x 3 scores
    assert lines[1].startswith("short ShapeError") and "takes 24 values" in lines[1]
    assert lines[2:4] == ["name UnknownNameError", "dtype DTypeError"]
    assert lines[4].startswith("batch InputError") and "compiled batch sizes: 1, 2" in lines[4]


# A project using the installed package's tfreeze_add_compiled_model: the .pb
# is compiled when the project builds. The target is named apart from NAME to
# show which one names the namespace and header. NO_VERIFY: the test compares
# the outputs with TensorFlow's itself (and saves the parity check's ~4 s).
FUNCTION_CALL = "scorer MODEL mlp.pb BATCH 1 2 NAME mlp NO_VERIFY"
FUNCTION_USER_CMAKE = f"""cmake_minimum_required(VERSION 3.19)
project(consumer CXX)
find_package(tfreeze CONFIG REQUIRED)
tfreeze_add_compiled_model({FUNCTION_CALL})
add_executable(consumer main.cc)
target_link_libraries(consumer PRIVATE scorer)
"""

# consumer BATCH FILE: reads BATCH x 12 float32 values, prints the scores, one row a line.
FUNCTION_USER = r"""
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>
#include <vector>
#include "mlp.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const int batch = std::stoi(argv[1]);
  mlp::Model model(batch);
  std::vector<float> features(batch * 12);
  std::ifstream in(argv[2], std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(features.data()), features.size() * sizeof(float)))
    return 2;
  model.SetInput("features", features);
  model.Run();
  const std::vector<float> scores = model.Output<float>("scores");
  std::cout << std::setprecision(9);
  for (size_t i = 0; i < scores.size(); ++i) std::cout << scores[i] << ((i + 1) % 3 ? " " : "\n");
}
"""


def cmake(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CMAKE), *map(str, args)], capture_output=True, text=True, env=env)


def configure(source: Path, prefix: Path) -> subprocess.CompletedProcess:
    """The consumer project against the installed package."""
    return cmake("-S", source, "-B", source / "b", "-G", "Ninja", f"-DCMAKE_PREFIX_PATH={prefix}")


@pytest.mark.slow
def test_cmake_function_compiles_the_pb_at_build_time(cpp_prefix, frozen, runtime_cache, tmp_path):
    """Cost: 20-35 s on the busy 2-core machine: one `tfreeze compile` at
    batch 1 and 2 with the module's warm runtime cache (TensorFlow loads twice,
    the generated API compiles), a configure and a two-file build (~3 s)."""
    shutil.copy(frozen("mlp").path, tmp_path / "mlp.pb")
    (tmp_path / "CMakeLists.txt").write_text(FUNCTION_USER_CMAKE)
    (tmp_path / "main.cc").write_text(FUNCTION_USER)
    build = tmp_path / "b"
    configured = configure(tmp_path, cpp_prefix)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    built = cmake("--build", build, env=runtime_cache)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "tfreeze compile mlp.pb (XLA AOT, batch 1,2)" in built.stdout
    assert re.search(r"parity +not checked \(--no-verify", built.stdout), built.stdout

    x = np.random.default_rng(2).normal(size=(2, 12)).astype(np.float32)
    expected = tfreeze.Model(frozen("mlp").path).run(x)["scores"]
    for batch in (1, 2):
        (tmp_path / "x.bin").write_bytes(x[:batch].tobytes())
        printed = subprocess.run(
            [str(build / "consumer"), str(batch), str(tmp_path / "x.bin")],
            capture_output=True,
            text=True,
            env=QUIET,
            check=True,
        ).stdout
        got = np.array([line.split() for line in printed.splitlines()], np.float32)
        np.testing.assert_allclose(got, expected[:batch], rtol=1e-4, atol=1e-5)

    # Compiled again only when the .pb changes (Ninja's dry run shows what it would do).
    assert "no work to do" in cmake("--build", build, "--", "-n").stdout
    os.utime(tmp_path / "mlp.pb")
    assert "tfreeze compile mlp.pb" in cmake("--build", build, "--", "-n").stdout


@pytest.mark.slow
def test_cmake_function_misuse_is_a_configure_error_naming_the_argument(
    cpp_prefix, frozen, tmp_path
):
    """Cost: nine configures of one project, under 1 s each (the compiler is detected once)."""
    shutil.copy(frozen("mlp").path, tmp_path / "mlp.pb")
    bad_batch = "BATCH takes batch sizes, positive integers such as BATCH 1 8; got"
    misuses = {
        "scorer BATCH 1 8": "MODEL is required (the frozen .pb to compile)",
        "scorer MODEL missing.pb": f'MODEL file "{tmp_path}/missing.pb" does not exist',
        "scorer MODEL mlp.pb BATCH": "BATCH given without a value",
        "scorer MODEL mlp.pb BATCH 1 eight": f'{bad_batch} "eight"',
        "scorer MODEL mlp.pb BATCH 0": f'{bad_batch} "0"',  # 0 is false in CMake
        "scorer MODEL .": f'MODEL "{tmp_path}" is a directory; MODEL takes a frozen .pb',
        "scorer MODEL mlp.pb BATCHES 1 8": 'unknown argument(s) "BATCHES 1 8"; the arguments are:',
        "my-model MODEL mlp.pb": '"my-model" is not a C++ identifier',
        "scorer MODEL mlp.pb CONV_AS_MATMUL yes": 'CONV_AS_MATMUL takes auto, on or off; got "yes"',
    }
    for call, expected in misuses.items():
        (tmp_path / "CMakeLists.txt").write_text(FUNCTION_USER_CMAKE.replace(FUNCTION_CALL, call))
        result = configure(tmp_path, cpp_prefix)
        message = " ".join(result.stderr.split())  # CMake wraps its messages
        assert result.returncode != 0, call
        assert f"tfreeze_add_compiled_model({call.split()[0]}): {expected}" in message, message
        assert "CMakeLists.txt:4 (tfreeze_add_compiled_model)" in message, message


def test_bench_reports_tfreeze_bench_fields_and_peak_rss(compiled, capsys):
    out, _ = compiled
    assert main(["bench", str(out), "--iterations", "50", "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    for field in ("p50_us", "p90_us", "p99_us", "mean_us", "min_us", "max_us"):
        assert 0 < row[field] < 1e6
    assert row["init_ms"] >= 0 and row["first_run_ms"] > 0 and row["peak_rss_mb"] > 0
    assert main(["bench", str(out), "--threads", "2"]) == 2  # TensorFlow's knob: refused
    assert "--threads apply to a .pb run by TensorFlow" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("text", ["input 'text' (string)", "(LookupTableFindV2)"]),
        ("lookups", ["input 'words' (string)", "integer_lookup", "(HashTableV2)"]),
    ],
)
def test_strings_and_tables_are_refused_in_one_line(frozen, tmp_path, capsys, kind, named):
    target = tmp_path / "out"
    assert main(["compile", str(frozen(kind).path), "-o", str(target)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tfreeze compile: error: XLA cannot compile"), error
    assert all(part in error for part in named), error
    assert error.count("\n") == 1 and not target.exists()


def test_open_dimension_names_the_input_and_the_flag():
    signature = Signature((IOEntry("tokens", "tokens:0", "int32", (-1, -1)),), ())
    with pytest.raises(CompileError, match=r"input 'tokens' .*--input-shape tokens="):
        static_io(signature, 1, {})
    inputs, _ = static_io(signature, 1, {"tokens": (1, 16)})
    assert inputs[0].shape == (1, 16)
    with pytest.raises(CompileError, match="inputs are: tokens"):
        static_io(signature, 1, {"token": (1, 16)})
    open_output = (IOEntry("states", "states:0", "float32", (-1, -1, 4)),)
    with pytest.raises(CompileError, match=r"output 'states' has shape \[\?,\?,4\]"):
        static_io(Signature(signature.inputs, open_output), 1, {"tokens": (1, 16)})


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--name", "9lives"], "not a C++ identifier"),
        (["--name", "sleep"], "is also a C library function"),  # clashed in unistd.h
        (["--name", "std"], "is a namespace of the generated code, its headers or the C++"),
        (["--name", "int"], "is a C++ keyword; pick another name, e.g. int_model"),
        (["--name", "__x"], "is reserved for the C++ implementation"),
        (["--name", "_Foo"], "is reserved for the C++ implementation"),
        (["--name", "mlp\n"], r"is not a C++ identifier: '\n' is not"),
        (["--input-shape", "features=1,x"], "is not NAME=D1,D2"),
    ],
)
def test_bad_arguments_are_one_line(frozen, tmp_path, capsys, extra, expected):
    target = tmp_path / "out"
    assert main(["compile", str(frozen("mlp").path), "-o", str(target), *extra]) == 2
    error = capsys.readouterr().err
    assert error.startswith("tfreeze compile: error:") and expected in error
    assert error.count("\n") == 1 and not target.exists()


def test_a_directory_with_other_files_is_not_replaced(frozen, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["compile", str(frozen("mlp").path), "-o", str(tmp_path)]) == 2
    assert "not an earlier `tfreeze compile` output" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


# --- Convolutions as matrix products (tfreeze.compile.im2col) ---------------


def _conv_model():
    """Every form the rewrite takes: SAME and VALID, stride 2, a non-square
    filter, 3 to 5 input channels (im2col + MatMul), one input channel (taps
    summed), a 1x1 filter (a MatMul alone); 2x2 SAME and 3x3 VALID max-pools
    (a maximum of slices, with "on" only)."""
    import keras

    keras.utils.set_random_seed(3)
    image = keras.Input((12, 12, 3), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same")(image)
    x = keras.layers.MaxPooling2D(2, padding="same")(x)
    x = keras.layers.Conv2D(5, 3, strides=2, padding="valid", activation="relu")(x)
    x = keras.layers.Conv2D(3, (2, 3), strides=2, padding="same")(x)
    gray = keras.Input((7, 7, 1), name="gray")
    y = keras.layers.Conv2D(6, 3, strides=2, padding="same", use_bias=False)(gray)
    y = keras.layers.MaxPooling2D(3, strides=1)(y)
    y = keras.layers.Conv2D(2, 1)(y)
    outputs = {
        "a": keras.layers.Flatten()(x),
        "b": keras.layers.Flatten()(y),
    }
    return keras.Model({"image": image, "gray": gray}, outputs, name="convs")


CONVS = 5  # Conv2D layers in _conv_model
_OWN_PRODUCTS_FLAG = "--xla_backend_extra_options=xla_force_enable_experimental_llvm_ir_gemm"


@pytest.fixture(scope="module")
def conv_pb(tmp_path_factory) -> Path:
    """The model above frozen (with its stored test vectors). ~3 s."""
    import tfreeze

    path = tmp_path_factory.mktemp("convs") / "convs.pb"
    tfreeze.freeze(_conv_model(), path)
    return path


def _run_graph(graph_def, feeds: dict) -> list:
    import tensorflow as tf

    signature = Signature.from_graph_def(graph_def)
    inputs = {entry.name: entry.tensor for entry in signature.inputs}
    with tf.Graph().as_default() as graph:
        tf.graph_util.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session(graph=graph) as session:
            fetches = [entry.tensor for entry in signature.outputs]
            return session.run(fetches, {inputs[k]: v for k, v in feeds.items()})


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_conv_rewrite_matches_tensorflow_at_batch_3(conv_pb, mode):
    """The rewritten graph, run by TensorFlow, against the original (~2 s)."""
    from tfreeze.compile.im2col import conv_as_matmul
    from tfreeze.graphview.stats import read_graph_def

    graph_def = read_graph_def(conv_pb)
    rng = np.random.default_rng(7)
    feeds = {
        "image": rng.normal(size=(3, 12, 12, 3)).astype(np.float32),
        "gray": rng.normal(size=(3, 7, 7, 1)).astype(np.float32),
    }
    rewrite = conv_as_matmul(graph_def, {k: v.shape for k, v in feeds.items()}, mode)
    rewritten = rewrite.graph_def
    # All convolutions are small enough for auto, and so are their products;
    # auto leaves the max-pools.
    assert len(rewrite.rewritten) == CONVS + (2 if mode == "on" else 0)
    assert rewrite.xla_flags == [_OWN_PRODUCTS_FLAG]
    left = sorted(node.op for node in rewritten.node if node.op in ("Conv2D", "MaxPool"))
    assert left == ([] if mode == "on" else ["MaxPool", "MaxPool"])
    ops = {node.op for node in rewritten.node}
    assert {"MatMul", "AddN", "StridedSlice", "Pad"} <= ops
    assert ("Maximum" in ops) is (mode == "on")
    for want, got in zip(_run_graph(graph_def, feeds), _run_graph(rewritten, feeds), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_conv_rewrite_off_and_bad_mode(conv_pb):
    from tfreeze.compile.im2col import Rewrite, conv_as_matmul
    from tfreeze.graphview.stats import read_graph_def

    graph_def = read_graph_def(conv_pb)
    shapes = {"image": (1, 12, 12, 3), "gray": (1, 7, 7, 1)}
    assert conv_as_matmul(graph_def, shapes, "off") == Rewrite(graph_def, [], [])
    with pytest.raises(CompileError, match="choose one of auto, on, off"):
        conv_as_matmul(graph_def, shapes, "always")


def test_auto_rule_takes_shallow_filters_and_one_channel():
    from tfreeze.compile.im2col import ConvShape, wins

    def conv(channels: int, size: int = 32) -> ConvShape:
        return ConvShape("c", 1, size, size, channels, (3, 3), 64, (1, 1), True)

    assert wins(conv(1, 112)) and wins(conv(3)) and wins(conv(16))
    assert not wins(conv(32)) and not wins(conv(64, 56))


@pytest.mark.parametrize(("mode", "rewritten"), [("off", False), ("on", True)])
def test_compile_passes_the_switch_through(conv_pb, tmp_path, monkeypatch, mode, rewritten):
    """What tfcompile gets: the file itself with off, the rewritten graph and
    the flag for XLA's own matrix products with on (nothing compiled: ~1 s)."""
    from tfreeze.compile import build, compile_model

    seen = {}

    def fake_build(graph, out, name, variants, xla_flags=()):
        seen.update(graph=graph, flags=list(xla_flags))
        raise CompileError("stop here")

    monkeypatch.setattr(build, "build_directory", fake_build)
    with pytest.raises(CompileError, match="stop here"):
        compile_model(conv_pb, tmp_path / "out", conv_as_matmul=mode)
    assert (seen["graph"] == conv_pb.resolve()) is not rewritten
    assert any("llvm_ir_gemm" in flag for flag in seen["flags"]) is rewritten
    assert not (tmp_path / "out").exists()


def test_compiled_convs_pass_parity_without_xla_convolutions(conv_pb, tmp_path, runtime_cache):
    """Compiled at batch 1 and 3 with the default (auto): the stored vectors
    match, and the runtime needs neither Eigen's convolution nor its matmul
    (~20 s with the MLP's runtime files cached)."""
    report = _compile(conv_pb, tmp_path / "convs", runtime_cache, "--batch", "1,3")
    assert report["parity"]["passed"] and report["parity"]["rows"] > 0
    assert report["conv_as_matmul"]["mode"] == "auto"
    assert len(report["conv_as_matmul"]["rewritten"]) == CONVS
    assert not [f for f in report["runtime_files"] if "convolution_lib" in f or "dot_lib" in f]


def test_depthwise_convolutions_are_named_as_slow_up_front():
    """XLA's grouped convolution made a real mini-Xception (fer's emotion model)
    20-40x slower compiled than on the TF runtime: the compile says so in its
    report. Instant: nothing is compiled."""
    import tensorflow as tf

    from tfreeze.compile import slow_op_notes

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, 8, 8, 3], name="x")
        tf.nn.depthwise_conv2d(x, tf.ones([3, 3, 3, 1]), [1, 1, 1, 1], "SAME", name="y")
    notes = slow_op_notes(graph.as_graph_def())
    assert len(notes) == 1 and notes[0].startswith("1 depthwise convolution(s) go through")
    assert slow_op_notes(tf.Graph().as_graph_def()) == []


# --- Names from the file and the command line in generated code -------------
# (tfreeze.compile.safe_text; docs/reliability.md, "tfreeze compile: names in
# generated code")

MARKER = "tfreeze-injected-code-ran"
# Pasted raw into a `//` comment of the generated header, this file name
# started lines of C++: a static initializer that ran `touch` during compile's
# own parity check (in the directory compile ran from).
HOSTILE_FILE = (
    f'm\n#include <cstdlib>\nstatic int pwn_ = std::system("touch {MARKER}");\n#define J x.pb'
)
INJECTED_LINE = re.compile(r"^\s*(#include <cstdlib>|static int pwn_|#define J)", re.M)
# Signature names holding what ends a `//` comment (a newline), continues it
# (a trailing backslash), closes a /* */ one, a quote, a trigraph (??/ is a
# backslash in C++14) and a non-ASCII letter.
HOSTILE_INPUT = 'in\n*/ "q" ??/ é \\'
HOSTILE_OUTPUT = "out */\\"


def _renamed(pb: Path, target: Path, inputs: list[str], outputs: list[str]) -> Path:
    """A copy of ``pb`` whose stored signature gives its inputs and outputs
    these names (the stored test vectors go by position, so parity holds)."""
    from tfreeze.graphview.stats import read_graph_def
    from tfreeze.signature import SIGNATURE_NODE

    graph_def = read_graph_def(pb)
    node = next(node for node in graph_def.node if node.name == SIGNATURE_NODE)
    signature = Signature.from_bytes(node.attr["value"].tensor.string_val[0])

    def rename(entries: tuple[IOEntry, ...], names: list[str]) -> tuple[IOEntry, ...]:
        return tuple(dataclasses.replace(e, name=n) for e, n in zip(entries, names, strict=True))

    renamed = dataclasses.replace(
        signature,
        inputs=rename(signature.inputs, inputs),
        outputs=rename(signature.outputs, outputs),
    )
    node.attr["value"].tensor.string_val[0] = renamed.to_bytes()
    target.write_bytes(graph_def.SerializeToString())
    return target


@pytest.fixture(scope="module")
def hostile(frozen, tmp_path_factory, runtime_cache):
    """(directory, report): the MLP under a file name that is C++ code, with
    signature names that break comments, compiled at batch 2 from a working
    directory where the injected `touch` would land (one compile, ~20 s)."""
    work = tmp_path_factory.mktemp("hostile")
    pb = _renamed(frozen("mlp").path, work / HOSTILE_FILE, [HOSTILE_INPUT], [HOSTILE_OUTPUT])
    out = work / "out"
    return out, _compile(pb, out, runtime_cache, "--batch", "2", cwd=work)


def _generated_text(directory: Path) -> dict[Path, str]:
    suffixes = {".h", ".cc", ".cmake", ".txt", ".pbtxt"}
    return {p: p.read_text() for p in directory.rglob("*") if p.suffix in suffixes}


def test_a_file_name_holding_code_never_runs(hostile, tmp_path_factory):
    out, report = hostile
    assert report["parity"]["passed"] and report["parity"]["rows"] > 0  # the checker ran
    assert not list(tmp_path_factory.getbasetemp().rglob(MARKER))
    assert not (Path.cwd() / MARKER).exists()
    generated = _generated_text(out)
    assert generated and not [
        path for path, text in generated.items() if INJECTED_LINE.search(text)
    ]
    header = generated[out / "include" / f"{report['name']}.h"]
    assert '"m\\012#include <cstdlib>\\012static int pwn_ = std::system(\\"touch' in header
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", report["name"]) and "__" not in report["name"]


def test_signature_names_that_break_comments_compile_and_keep_their_bytes(hostile):
    out, report = hostile
    source = (out / "src" / f"{report['name']}.cc").read_text()
    literals = re.findall(r'TensorInfo\{("(?:[^"\\]|\\.)*")', source)
    names = [ast.literal_eval("b" + literal).decode() for literal in literals]
    assert names == [HOSTILE_INPUT, HOSTILE_OUTPUT]
    for path, text in _generated_text(out).items():
        assert not [line for line in text.splitlines() if line.rstrip().endswith("\\")], path


# Every escape cpp_string writes means the same in C++ and in a Python bytes
# literal, so Python can evaluate what the C++ compiler will read.
CPP_LITERAL = re.compile(r'"(?:[^"\\?]|\\[\\"]|\\[0-7]{3})*"')


def test_every_byte_round_trips_through_the_cpp_literal():
    from tfreeze.compile.safe_text import cpp_string

    everything = bytes(range(256))
    assert ast.literal_eval("b" + cpp_string(everything)) == everything
    for byte in everything:
        # An octal escape stops after 3 digits; \x would run on into these.
        text = bytes([byte]) + b"0123456789abcdefABCDEF"
        literal = cpp_string(text)
        assert literal.isascii() and literal.isprintable() and CPP_LITERAL.fullmatch(literal)
        assert ast.literal_eval("b" + literal) == text
    assert cpp_string("é\n") == '"\\303\\251\\012"'  # a str goes in as UTF-8


@pytest.mark.parametrize(
    "text", [HOSTILE_FILE, HOSTILE_INPUT, "a\\", "a\\ ", "x\\\r\n", "*/", "??/", "\u2028", "\x00"]
)
def test_comment_text_is_one_printable_line_that_cannot_continue_or_close(text):
    from tfreeze.compile.safe_text import comment_text

    for rendered in (comment_text(text), comment_text(bytes(range(256)))):
        assert rendered.isascii() and rendered.isprintable()  # no newline, CR, form feed
        assert (
            not rendered.rstrip().endswith("\\") and "*/" not in rendered and "??" not in rendered
        )


def test_cmake_string_is_taken_literally_by_cmake(tmp_path):
    from tfreeze.compile.safe_text import cmake_string

    text = '/opt/my "tf"/$HOME/${X}/$ENV{PATH}/\\/@X@/\n/\ttab/'
    script = tmp_path / "t.cmake"
    script.write_text(
        f'set(v {cmake_string(text, "a path")})\nfile(WRITE "{tmp_path}/v" "${{v}}")\n'
    )
    subprocess.run([str(CMAKE), "-P", str(script)], check=True, capture_output=True)
    assert (tmp_path / "v").read_text() == text
    for text, bad in (("a;b", ";"), ("$<1:x>", "$<")):
        with pytest.raises(CompileError, match=f"a path '.*' holds '{re.escape(bad)}'"):
            cmake_string(text, "a path")


def _hostile_variant():
    from tfreeze.compile.config import StaticIO
    from tfreeze.compile.generate import Variant

    return Variant(
        1,
        [StaticIO(HOSTILE_INPUT, "features", 0, "float32", (1, 12))],
        [StaticIO(HOSTILE_OUTPUT, "scores", 0, "float32", (1, 3))],
    )


def test_rendered_sources_hold_foreign_names_only_escaped():
    """Every template rendered with the hostile names (nothing compiled)."""
    from tfreeze.compile import generate

    values = generate.api_values("mlp", HOSTILE_FILE, [_hostile_variant()])
    cmake_values = generate.cmake_values("mlp", HOSTILE_FILE, "/opt/tf $x/lib.so")
    rendered = [generate.render(t, **values) for t in ("model.h.in", "model.cc.in")]
    rendered += [generate.render(t, **values) for t in ("check.cc.in", "bench.cc.in")]
    rendered += [
        generate.render(t, **cmake_values) for t in ("Config.cmake.in", "CMakeLists.txt.in")
    ]
    for text in rendered:
        assert not INJECTED_LINE.search(text) and "??" not in text
        assert not [line for line in text.splitlines() if line.rstrip().endswith("\\")]
    header = rendered[0]
    assert 'model.SetInput("in\\012*\\057 \\"q\\" \\077\\077/ \\303\\251 \\\\", values);' in header
    assert "#ifndef TFREEZE_COMPILED_H_mlp\n" in header


def test_rendered_cmake_configures_with_foreign_text(tmp_path):
    """The rendered package file, included by a project without languages
    (~1 s): the file name stays in its comment and the library path arrives
    as written."""
    from tfreeze.compile import generate

    framework = f'{tmp_path}/tf "odd" ${{HOME}}/libtensorflow_framework.so.2'
    values = generate.cmake_values("mlp", HOSTILE_FILE, framework)
    (tmp_path / "mlpConfig.cmake").write_text(generate.render("Config.cmake.in", **values))
    (tmp_path / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(user NONE)\n"
        'include("${CMAKE_SOURCE_DIR}/mlpConfig.cmake")\n'
        "get_target_property(libs mlp::mlp INTERFACE_LINK_LIBRARIES)\n"
        'file(WRITE "${CMAKE_BINARY_DIR}/libs" "${libs}")\n'
    )
    result = cmake("-S", tmp_path, "-B", tmp_path / "b", "-G", "Ninja")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "b" / "libs").read_text() == framework


def test_tf2xla_config_quotes_node_names_as_protobuf_text():
    from google.protobuf import text_format
    from tensorflow.compiler.tf2xla import tf2xla_pb2

    from tfreeze.compile.config import StaticIO, tf2xla_config

    node = 'a"b\\ }\n feed {'
    config = tf2xla_config(
        [StaticIO("x", node, 1, "float32", (2,))], [StaticIO("y", node, 0, "float32", ())]
    )
    parsed = text_format.Parse(config, tf2xla_pb2.Config())
    assert [f.id.node_name for f in (*parsed.feed, *parsed.fetch)] == [node, node]
    assert len(parsed.feed) == 1 and parsed.feed[0].id.output_index == 1


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (IOEntry("a\x00b", "x:0", "float32", (-1, 2)), r"input name 'a\\x00b' holds '\\x00'"),
        (IOEntry("x", 'x";system:0', "float32", (-1, 2)), "is not a graph tensor"),
        (IOEntry("x", "x:0", "float32", (-1, "2}; evil")), "is not a list of sizes"),
        (IOEntry("x", "x:0", "float32", (-1, True)), "is not a list of sizes"),
        (IOEntry("x", "x:0", ["float32"], (-1, 2)), "is not a type name"),
    ],
)
def test_signature_fields_are_checked_before_they_reach_code(entry, expected):
    with pytest.raises(CompileError, match=expected):
        static_io(Signature((entry,), ()), 1, {})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("std", "is a namespace of"),
        ("std17", "is a namespace of"),
        ("posix", "is a namespace of"),
        ("tensorflow", "is a namespace of"),
        ("tfreeze_compiled", "is a namespace of"),
        ("Eigen", "is a namespace of"),
        ("int", "is a C++ keyword"),
        ("and", "is a C++ keyword"),
        ("co_await", "is a C++ keyword"),
        ("__x", "is reserved for the C++ implementation"),
        ("x__y", "any name holding __); pick another name, e.g. x_y_model"),
        ("_Foo", "is reserved for the C++ implementation"),
        ("_foo", "is reserved for the C++ implementation"),
        ("linux", "a macro the C++ compiler predefines in GNU modes"),
        ("main", "would clash with the main()"),
        ("a-b", "is not a C++ identifier: '-' is not"),
        ("mod\u00e8le", "is not a C++ identifier: 'è' is not"),
        ("9lives", "is not a C++ identifier"),
    ],
)
def test_names_cpp_reserves_are_refused_in_one_line(name, expected):
    from tfreeze.compile.safe_text import check_name

    with pytest.raises(CompileError, match=re.escape(expected)) as raised:
        check_name(name)
    assert "\n" not in str(raised.value)


def test_default_names_from_file_names_are_identifiers_of_their_own():
    from tfreeze.compile import _default_name
    from tfreeze.compile.safe_text import check_name

    assert _default_name(Path("digits.pb")) == "digits"
    assert _default_name(Path("my--model v2.pb")) == "my_model_v2"
    assert _default_name(Path("__init__.pb")) == "init"
    assert _default_name(Path("9 lives.pb")) == "model_9_lives"
    assert _default_name(Path("модель.pb")) == "model"
    assert check_name(_default_name(Path(HOSTILE_FILE))).startswith("m_include_cstdlib_static")


def test_a_name_the_headers_declare_is_refused_naming_it(tmp_path):
    """What the fixed lists cannot know (a type such as size_t), found by
    compiling a probe when the API fails to compile; a free name passes
    (two syntax-only compiles of the headers, ~5 s each)."""
    from tfreeze.compile import build, runtime

    tools = runtime.toolchain()
    (tmp_path / "include" / "tfreeze").mkdir(parents=True)
    shutil.copy(build._CPP / "include" / "tfreeze" / "errors.h", tmp_path / "include" / "tfreeze")
    (tmp_path / "src").mkdir()
    # What tfcompile's header includes.
    (tmp_path / "src" / "stub.h").write_text(
        '#include "tensorflow/compiler/tf2xla/xla_compiled_cpu_function.h"\n'
    )
    build._refuse_clashing_name(tools, tmp_path, "free_name", "stub")
    with pytest.raises(CompileError, match=r"--name 'size_t' clashes with a declaration .*size_t"):
        build._refuse_clashing_name(tools, tmp_path, "size_t", "stub")
