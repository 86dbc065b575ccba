"""The C++ and CMake text around tfcompile's classes, from ``templates/``:
the tfreeze-style API (``NAME.h``/``NAME.cc``), the parity checker, the
benchmark, and the CMake files that make the directory a package."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

from tfreeze._version import __version__
from tfreeze.compile.config import NUMERIC_DTYPES, StaticIO
from tfreeze.compile.safe_text import cmake_string, comment_text, cpp_string
from tfreeze.errors import CompileError

__all__ = ["Variant", "api_values", "cmake_values", "name_probe", "render", "variant_class"]

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Variant:
    """The model compiled for one batch size."""

    batch: int
    inputs: list[StaticIO]
    outputs: list[StaticIO]


def variant_class(name: str, batch: int) -> str:
    return f"{name}_b{batch}"


def render(template: str, **values: object) -> str:
    return Template((_TEMPLATES / template).read_text()).substitute(
        tfreeze_version=__version__, **values
    )


def name_probe(name: str, header: str) -> str:
    """A source that declares namespace ``name`` after every header the
    generated code includes (tfcompile's ``header``.h the one it adds): it
    compiles unless the name clashes with one of theirs."""
    includes = {
        line
        for template in _TEMPLATES.glob("*.in")
        for line in re.findall(r"^#include <.+>$", template.read_text(), re.M)
    }
    return "\n".join(
        [*sorted(includes), '#include "tfreeze/errors.h"', f'#include "{header}.h"']
        + [f"namespace {name} {{ int tfreeze_probe; }}"]
        + [f"int tfreeze_probe_use() {{ return ::{name}::tfreeze_probe; }}", ""]
    )


def api_values(name: str, model_file: str, variants: list[Variant]) -> dict[str, object]:
    """What model.h.in, model.cc.in, check.cc.in and bench.cc.in fill in.
    ``name`` is a checked identifier (``safe_text.check_name``); the file's
    name and the signature's names go in only escaped (``safe_text``)."""
    first = variants[0]
    return {
        "name": name,
        # The name last: with no leading _ and no __ in it, the guard holds no
        # __ either (reserved), and two models differing in case keep two guards.
        "guard": f"TFREEZE_COMPILED_H_{name}",
        "model_file": comment_text(model_file),
        "batches": ", ".join(str(v.batch) for v in variants),
        "first_batch": first.batch,
        "first_input": cpp_string(first.inputs[0].name if first.inputs else ""),
        "first_output": cpp_string(first.outputs[0].name if first.outputs else ""),
        "first_output_type": _cpp_type(first.outputs[0]) if first.outputs else "float",
        "includes": "\n".join(
            f'#include "{variant_class(name, v.batch)}.h"  // NOLINT' for v in variants
        ),
        "variants": ",\n".join(_variant_entry(name, v) for v in variants),
    }


def cmake_values(name: str, model_file: str, framework: str) -> dict[str, object]:
    """What Config.cmake.in and CMakeLists.txt.in fill in; ``framework`` is
    the path of TensorFlow's libtensorflow_framework.so.2."""
    return {
        "name": name,
        "model_file": comment_text(model_file),
        "framework": cmake_string(framework, "TensorFlow's library"),
    }


def _variant_entry(name: str, variant: Variant) -> str:
    cls = variant_class(name, variant.batch)
    return (
        f"      Variant{{{variant.batch},\n"
        f"              {{{_infos(variant.inputs)}}},\n"
        f"              {{{_infos(variant.outputs)}}},\n"
        f"              [] {{ return std::unique_ptr<tensorflow::XlaCompiledCpuFunction>("
        f"new tfreeze_compiled::{cls}); }}}}"
    )


def _infos(entries: list[StaticIO]) -> str:
    return ", ".join(map(_info, entries))


def _info(io: StaticIO) -> str:
    _cpp_type(io)  # refuses a dtype that compiled code has no type for
    shape = ", ".join(map(str, io.shape))  # integers: config.py checked them
    return f"TensorInfo{{{cpp_string(io.name)}, {cpp_string(io.dtype)}, {{{shape}}}, {io.count}}}"


def _cpp_type(io: StaticIO) -> str:
    # refuse_uncompilable (config.py) names every such entry before anything is
    # compiled; checked again here so that no other dtype text reaches the code.
    if io.dtype not in NUMERIC_DTYPES:
        raise CompileError(f"{io.name!r} is {io.dtype!r}: compiled code takes numbers only")
    return NUMERIC_DTYPES[io.dtype]
