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
from tfreeze.errors import CompileError

__all__ = ["Variant", "api_values", "check_name", "render", "variant_class"]

_TEMPLATES = Path(__file__).parent / "templates"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Variant:
    """The model compiled for one batch size."""

    batch: int
    inputs: list[StaticIO]
    outputs: list[StaticIO]


def check_name(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise CompileError(
            f"--name {name!r} is not a C++ identifier (letters, digits and _, not first a digit)"
        )
    if name == "main":
        raise CompileError("--name 'main' would clash with the main() of the generated tools")
    if _is_c_library_symbol(name):
        # The name becomes a namespace at global scope, where the system
        # headers the generated code includes declare the C library's functions
        # (seen: `sleep`, from unistd.h): the two clash at compile time.
        raise CompileError(
            f"--name {name!r} is also a C library function, which the generated code's "
            f"headers declare at global scope; pick another name, e.g. {name}_model"
        )
    return name


def _is_c_library_symbol(name: str) -> bool:
    """A function or variable the C and math libraries export, as seen from
    this process: a superset of what the system headers declare."""
    import ctypes

    try:
        ctypes.CDLL(None)[name]
    except AttributeError:
        return False
    return True


def variant_class(name: str, batch: int) -> str:
    return f"{name}_b{batch}"


def render(template: str, **values: object) -> str:
    return Template((_TEMPLATES / template).read_text()).substitute(
        tfreeze_version=__version__, **values
    )


def api_values(name: str, model_file: str, variants: list[Variant]) -> dict[str, object]:
    """What model.h.in, model.cc.in, check.cc.in and bench.cc.in fill in."""
    first = variants[0]
    return {
        "name": name,
        "guard": name.upper(),
        "model_file": model_file,
        "batches": ", ".join(str(v.batch) for v in variants),
        "first_batch": first.batch,
        "first_input": first.inputs[0].name if first.inputs else "",
        "first_output": first.outputs[0].name if first.outputs else "",
        "first_output_type": NUMERIC_DTYPES[first.outputs[0].dtype] if first.outputs else "float",
        "includes": "\n".join(
            f'#include "{variant_class(name, v.batch)}.h"  // NOLINT' for v in variants
        ),
        "variants": ",\n".join(_variant_entry(name, v) for v in variants),
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
    return ", ".join(
        f'TensorInfo{{"{_escape(io.name)}", "{io.dtype}", {{{", ".join(map(str, io.shape))}}}, '
        f"{io.count}}}"
        for io in entries
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
