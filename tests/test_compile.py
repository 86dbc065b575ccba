"""tfreeze compile: the MLP compiled by XLA at batch sizes 1 and 2, checked
against its Keras model, used through the generated C++ API from a CMake
project, and timed; what XLA cannot compile is refused in one line. The
installed CMake package's tfreeze_add_compiled_model compiles it at build time.

Cost: two compiles (the first builds the runtime's 4 core files into a cache
under pytest's tmp: ~35 s of CPU, built two at a time; set
TFREEZE_XLA_RUNTIME_CACHE to keep a warm one between runs; the second, from
CMake, reuses it: 20-35 s), two small CMake projects (~3 s each) and eight
failing configures (~3 s). The CMake function's tests need the installed C++
package (conftest's cpp_prefix, shared with test_cpp_package.py).
"""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def compiled(frozen, tmp_path_factory, runtime_cache):
    """(directory, report): the MLP compiled at batch 1 and 2."""
    out = tmp_path_factory.mktemp("compiled") / "mlp"
    command = [sys.executable, "-m", "tfreeze", "compile", str(frozen("mlp").path)]
    result = subprocess.run(
        [*command, "-o", str(out), "--batch", "1,2", "--json"],
        capture_output=True,
        text=True,
        env=runtime_cache,
    )
    assert result.returncode == 0, result.stderr
    return out, json.loads(result.stdout)


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
    """Cost: eight configures of one project, under 1 s each (the compiler is detected once)."""
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
