"""The XLA AOT runtime, built from the tensorflow wheel's own sources
(``tensorflow/xla_aot_runtime_src/``) into a cache shared by every compiled
model: ``$TFREEZE_XLA_RUNTIME_CACHE`` or ``~/.cache/tfreeze/xla-runtime``, one
directory per TensorFlow version and vector flags.

Building all of it takes minutes (Eigen's convolutions), and a model needs a
few files: those defining the symbols its objects leave undefined. ``objects_for``
follows those symbols (``nm``) to the source files defining them, builds only
what the cache lacks, and returns the objects to link.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tfreeze.errors import CompileError

__all__ = ["Toolchain", "objects_for", "run_tool", "toolchain", "vector_flags"]

_RUNTIME = "xla/backends/cpu/runtime"

# Demangled symbol -> the runtime source defining it. The kernel libraries
# are one file per element type (and rank), named by XLA's type tags.
_TYPE_TAGS = {
    "Eigen::half": "f16",
    "float": "f32",
    "double": "f64",
    "signed char": "s8",
    "int": "s32",
    "std::complex<float>": "c64",
    "std::complex<double>": "c128",
}
_KERNEL_RULES = (
    (
        re.compile(r"xla::cpu::internal::EigenConv(\d)D<(.+?)>\("),
        _RUNTIME + "/convolution_lib_{}_{}d.cc",
    ),
    (re.compile(r"xla::cpu::internal::TypedMatMul<(.+?),"), _RUNTIME + "/dot_lib_{}.cc"),
)
_RULES = (
    ("xla::cpu::internal::SortInplace", _RUNTIME + "/sort_lib.cc"),
    ("xla::cpu::RngState::", _RUNTIME + "/rng_state_lib.cc"),
    ("tsl::EnvTime::", "xla/tsl/platform/default/env_time.cc"),
    ("tsl::MakeErrorAsyncValueRef", "xla/tsl/concurrency/async_value_ref.cc"),
    ("tsl::AsyncValue::", "xla/tsl/concurrency/async_value.cc"),
    ("tsl::IndirectAsyncValue::", "xla/tsl/concurrency/async_value.cc"),
    ("xla::CustomCallStatus", "xla/service/custom_call_status.cc"),
    ("XlaCustomCallStatus", "xla/service/custom_call_status.cc"),
    ("xla::ExecutableRunOptions::", "xla/executable_run_options.cc"),
    ("xla::RunId::", "xla/executable_run_options.cc"),
    (
        "tensorflow::XlaCompiledCpuFunction::",
        "tensorflow/compiler/tf2xla/xla_compiled_cpu_function.cc",
    ),
    ("tensorflow::MallocContiguousBuffers", "tensorflow/compiler/tf2xla/allocator.cc"),
    ("tensorflow::FreeContiguous", "tensorflow/compiler/tf2xla/allocator.cc"),
)
_WARNINGS_OFF = ["-Wno-ignored-attributes", "-Wno-deprecated-copy", "-Wno-sign-compare"]


class Toolchain:
    """Where TensorFlow's headers, runtime sources and absl live, and how to compile."""

    def __init__(self, tensorflow_dir: Path, flags: list[str]) -> None:
        self.tensorflow_dir = tensorflow_dir
        self.sources = tensorflow_dir / "xla_aot_runtime_src"
        self.include = tensorflow_dir / "include"
        self.framework = tensorflow_dir / "libtensorflow_framework.so.2"
        self.cxx = os.environ.get("CXX") or shutil.which("c++") or "c++"
        self.vector_flags = flags
        self.cxx_flags = ["-std=c++17", "-O2", "-fPIC", "-DNDEBUG", *flags, *_WARNINGS_OFF]
        self.include_flags = [f"-I{self.sources}", f"-I{self.include}"]

    def cache(self) -> Path:
        root = os.environ.get("TFREEZE_XLA_RUNTIME_CACHE")
        if not root:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
            root = os.path.join(base, "tfreeze", "xla-runtime")
        tag = "-".join(flag.removeprefix("-m") for flag in self.vector_flags) or "generic"
        return Path(root) / f"{_tensorflow_version()}-{tag}"

    def compile(self, source: Path, output: Path, *extra: str) -> None:
        command = [self.cxx, *self.cxx_flags, *self.include_flags, *extra, "-c", str(source)]
        run_tool([*command, "-o", str(output)], f"compiling {source.name}")


def toolchain() -> Toolchain:
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or not spec.submodule_search_locations:
        raise CompileError(
            "tfreeze compile needs the tensorflow package: pip install tensorflow-cpu"
        )
    tensorflow_dir = Path(list(spec.submodule_search_locations)[0])
    if not (tensorflow_dir / "xla_aot_runtime_src").is_dir():
        raise CompileError(
            f"{tensorflow_dir} has no xla_aot_runtime_src/: this TensorFlow "
            "wheel does not ship the XLA AOT runtime"
        )
    return Toolchain(tensorflow_dir, vector_flags())


def vector_flags() -> list[str]:
    """-mavx2 -mfma where this CPU has both (not -march=native: with AVX-512,
    an Eigen template in the convolution kernels does not compile)."""
    try:
        with open("/proc/cpuinfo") as file:
            flags = next(
                (line.split(":", 1)[1].split() for line in file if line.startswith("flags")), []
            )
    except OSError:
        return []
    return ["-mavx2", "-mfma"] if {"avx2", "fma"} <= set(flags) else []


def _tensorflow_version() -> str:
    for distribution in ("tensorflow-cpu", "tensorflow", "tf-nightly"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def objects_for(tools: Toolchain, objects: Iterable[Path]) -> tuple[list[Path], dict[str, float]]:
    """The runtime objects that ``objects`` need (followed transitively),
    built into the cache where missing; and the seconds each one built now took."""
    cache = tools.cache()
    cache.mkdir(parents=True, exist_ok=True)
    needed: dict[str, Path] = {}
    built: dict[str, float] = {}
    scan = list(objects)
    with _locked(cache), ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        while scan:
            new = sorted(_sources_for(_undefined(scan), tools) - needed.keys())
            # One compiler per core: the missing files of a round build side by side.
            results = pool.map(lambda source: _cached_object(tools, cache, source), new)
            scan = []
            for source, (path, seconds) in zip(new, results, strict=True):
                needed[source] = path
                if seconds is not None:
                    built[source] = seconds
                scan.append(path)
    return [needed[source] for source in sorted(needed)], built


def _undefined(objects: Iterable[Path]) -> set[str]:
    output = run_tool(["nm", "-C", "-u", *map(str, objects)], "listing symbols")
    return {line.split(None, 1)[1] for line in output.splitlines() if line.strip().startswith("U ")}


def _sources_for(symbols: set[str], tools: Toolchain) -> set[str]:
    sources = set()
    for symbol in symbols:
        for pattern, template in _KERNEL_RULES:
            match = pattern.search(symbol)
            if match:
                *rank, type_name = match.groups()
                tag = _TYPE_TAGS.get(type_name.strip())
                if tag:
                    sources.add(template.format(tag, *rank) if rank else template.format(tag))
        sources.update(source for prefix, source in _RULES if prefix in symbol)
    return {source for source in sources if (tools.sources / source).is_file()}


def _cached_object(tools: Toolchain, cache: Path, source: str) -> tuple[Path, float | None]:
    """The object of ``source`` in the cache, and the seconds it took to build now
    (None: it was there)."""
    path = cache / "objects" / (source.replace("/", "__").removesuffix(".cc") + ".o")
    if path.exists():
        return path, None
    path.parent.mkdir(exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp.o")
    start = time.perf_counter()
    tools.compile(tools.sources / source, partial)
    seconds = round(time.perf_counter() - start, 1)
    os.replace(partial, path)  # whole or absent: an interrupted build leaves no object
    _record_time(cache, source, seconds)
    return path, seconds


_TIMES_LOCK = threading.Lock()


def _record_time(cache: Path, source: str, seconds: float) -> None:
    """Keeps each file's build time beside the objects (docs/compile.md quotes them)."""
    with _TIMES_LOCK:
        _update_times(cache / "build-times.json", source, seconds)


def _update_times(times_path: Path, source: str, seconds: float) -> None:
    times = json.loads(times_path.read_text()) if times_path.exists() else {}
    times[source] = seconds
    times_path.write_text(json.dumps(times, indent=1, sort_keys=True))


class _locked:
    """Holds the cache's lock file: two compiles at once build each object once."""

    def __init__(self, cache: Path) -> None:
        self.path = cache / ".lock"

    def __enter__(self) -> None:
        self.file = open(self.path, "w")  # noqa: SIM115 (closed in __exit__)
        fcntl.flock(self.file, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def run_tool(command: list[str], what: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise CompileError(
            f"{what}: {command[0]} not found; install a C++ compiler and binutils "
            "(Debian: apt-get install g++ binutils)"
        ) from None
    if result.returncode != 0:
        first = next(
            (line for line in result.stderr.splitlines() if "error" in line),
            result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "",
        )
        raise CompileError(f"{what} failed: {first}")
    return result.stdout
