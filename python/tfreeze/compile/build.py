"""Builds a compiled model's directory: tfcompile per batch size, the
generated API, the library (model + API + the runtime parts it needs), the
checker and benchmark programs, and the CMake files.

Layout of ``DIR``::

    include/NAME.h, include/tfreeze/errors.h    what a user includes
    lib/libNAME.a                               everything but absl
    bin/NAME-check, bin/NAME-bench              parity checker, benchmark
    NAMEConfig.cmake, CMakeLists.txt            target NAME::NAME
    src/                                        tfcompile's output, the API's source
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tfreeze.compile import generate, runtime
from tfreeze.compile.config import tf2xla_config
from tfreeze.compile.xla import run_tfcompile
from tfreeze.errors import CompileError

__all__ = ["build_directory"]

_CPP = Path(__file__).parent / "cpp"  # tfreeze/errors.h and errors.cc, installed with the wheel


def build_directory(
    model: Path,
    out: Path,
    name: str,
    variants: list[generate.Variant],
    xla_flags: list[str] = (),  # type: ignore[assignment]
) -> dict[str, object]:
    """Fills ``out`` (an empty directory, or one holding src/); returns what
    was built and how long the runtime files that were missing from the cache
    took. ``xla_flags`` go to tfcompile before the user's own XLA_FLAGS."""
    tools = runtime.toolchain()
    for sub in ("include/tfreeze", "src", "lib", "bin"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    src = out / "src"
    model_objects = _tfcompile(model, src, name, variants, tools, list(xla_flags))
    _write_api(out, name, model.name, variants)
    api = [_compile_api(tools, out, name, variants[0]), _compile(tools, src / "errors.cc", out)]
    runtime_objects, built = runtime.objects_for(tools, [*api, *model_objects])
    library = out / "lib" / f"lib{name}.a"
    runtime.run_tool(
        ["ar", "rcs", str(library), *map(str, [*api, *model_objects, *runtime_objects])],
        "archiving the library",
    )
    for program in ("check", "bench"):
        _link_program(tools, out, name, program, library)
    _write_cmake(out, name, model.name, tools)
    return {
        "library": str(library.relative_to(out)),
        "runtime_files": [path.name for path in runtime_objects],
        "runtime_built_s": built,
        "runtime_cache": str(tools.cache()),
        "vector_flags": tools.vector_flags,
    }


def _tfcompile(
    model: Path,
    src: Path,
    name: str,
    variants: list[generate.Variant],
    tools: runtime.Toolchain,
    xla_flags: list[str],
) -> list[Path]:
    jobs = []
    for variant in variants:
        stem = generate.variant_class(name, variant.batch)
        config = src / f"{stem}.config.pbtxt"
        config.write_text(tf2xla_config(variant.inputs, variant.outputs))
        jobs.append((config, src / stem, f"tfreeze_compiled::{stem}"))
    # The generated code uses the vector extensions the runtime is built with.
    features = ",".join("+" + flag.removeprefix("-m") for flag in tools.vector_flags)
    run_tfcompile(model, jobs, features, xla_flags)
    return [
        src / f"{stem.name}{suffix}"
        for _, stem, _ in jobs
        for suffix in (".o", "_metadata.o", "_constants.o")
    ]


def _write_api(out: Path, name: str, model_file: str, variants: list[generate.Variant]) -> None:
    if not (_CPP / "errors.cc").exists():
        raise CompileError(f"{_CPP} lacks tfreeze's errors.h/errors.cc: reinstall tfreeze")
    shutil.copy(_CPP / "include" / "tfreeze" / "errors.h", out / "include" / "tfreeze")
    shutil.copy(_CPP / "errors.cc", out / "src")
    values = generate.api_values(name, model_file, variants)
    (out / "include" / f"{name}.h").write_text(generate.render("model.h.in", **values))
    for template, target in (
        ("model.cc.in", f"{name}.cc"),
        ("check.cc.in", "check.cc"),
        ("bench.cc.in", "bench.cc"),
    ):
        (out / "src" / target).write_text(generate.render(template, **values))


def _compile_api(tools: runtime.Toolchain, out: Path, name: str, variant: generate.Variant) -> Path:
    try:
        return _compile(tools, out / "src" / f"{name}.cc", out)
    except CompileError:
        _refuse_clashing_name(tools, out, name, generate.variant_class(name, variant.batch))
        raise


def _refuse_clashing_name(tools: runtime.Toolchain, out: Path, name: str, header: str) -> None:
    """Why the API did not compile, when it is the name: a type, macro or
    function of that name in the headers the generated code includes (size_t,
    errno, FILE, ...), which check_name's lists cannot all know. Run only after
    a failure, so that a compile that works pays nothing for it."""
    with tempfile.TemporaryDirectory(prefix="tfreeze-name-") as scratch:
        probe = Path(scratch) / "probe.cc"
        probe.write_text(generate.name_probe(name, header))
        try:
            tools.compile(probe, probe.with_suffix(".o"), *_api_includes(out), "-fsyntax-only")
        except CompileError as error:
            said = str(error).split("error: ", 1)[-1]
            raise CompileError(
                f"--name {name!r} clashes with a declaration in the C++ headers the generated "
                f"code includes (the compiler: {said}); pick another name, e.g. {name}_model"
            ) from None


def _api_includes(out: Path) -> list[str]:
    return [f"-I{out / 'include'}", f"-I{out / 'src'}"]


def _compile(tools: runtime.Toolchain, source: Path, out: Path) -> Path:
    obj = source.with_suffix(".o")
    tools.compile(source, obj, *_api_includes(out))
    return obj


def _link_program(
    tools: runtime.Toolchain, out: Path, name: str, program: str, library: Path
) -> None:
    obj = _compile(tools, out / "src" / f"{program}.cc", out)
    binary = out / "bin" / f"{name}-{program}"
    command = [
        tools.cxx,
        str(obj),
        str(library),
        str(tools.framework),
        f"-Wl,-rpath,{tools.tensorflow_dir}",
        "-lpthread",
        "-o",
        str(binary),
    ]
    runtime.run_tool(command, f"linking {binary.name}")


def _write_cmake(out: Path, name: str, model_file: str, tools: runtime.Toolchain) -> None:
    values = generate.cmake_values(name, model_file, str(tools.framework))
    (out / f"{name}Config.cmake").write_text(generate.render("Config.cmake.in", **values))
    (out / "CMakeLists.txt").write_text(generate.render("CMakeLists.txt.in", **values))
