"""Text from a model file or the command line, made safe for the place it
lands in the generated files: C++ string literals and comments, the tf2xla
config (protobuf text format), CMake quoted arguments and comments, and the
C++ identifier ``--name`` becomes.

A .pb's file name and its signature's names are a stranger's text. Pasted raw
into a ``//`` comment, a newline in a file name started a line of C++: a static
initializer that ran during compile's own parity check (docs/reliability.md,
"tfreeze compile: names in generated code").

    cpp_string('a"b\\n')  ->  '"a\\\\"b\\\\012"'
"""

from __future__ import annotations

import re
import string

from tfreeze.errors import CompileError

__all__ = ["check_name", "cmake_string", "comment_text", "cpp_string", "for_message"]

# Bytes that stand for themselves in a C++ string literal, a protobuf text
# string and a comment: printable ASCII except the quote, the backslash (an
# escape; at the end of a `//` comment, a continuation onto the next line)
# and `?` (`??/` is a backslash where trigraphs are on: C++14 and earlier).
_PLAIN = frozenset(range(0x20, 0x7F)) - {ord('"'), ord("\\"), ord("?")}
_SHORT_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"}


def cpp_string(text: str | bytes) -> str:
    """``text`` (UTF-8 when a str) as a double-quoted C++ string literal of
    printable ASCII: every other byte as a 3-digit octal escape, which, unlike
    ``\\x``, cannot swallow the hex digits after it. The same text is a
    protobuf text-format string, and is one line without ``*/`` that ends in a
    quote, so it is also safe inside comments."""
    data = text.encode() if isinstance(text, str) else text
    out = []
    for i, byte in enumerate(data):
        closes_comment = byte == ord("/") and i > 0 and data[i - 1] == ord("*")
        if byte in _PLAIN and not closes_comment:
            out.append(chr(byte))
        else:
            out.append(_SHORT_ESCAPES.get(byte, f"\\{byte:03o}"))
    return '"' + "".join(out) + '"'


def comment_text(text: str | bytes) -> str:
    """``text`` for a C++ ``//`` or a CMake ``#`` comment: the quoted, escaped
    form of ``cpp_string``, so no newline can end the comment early and no
    trailing backslash can continue it onto the next line."""
    return cpp_string(text)


_CMAKE_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def cmake_string(text: str, what: str) -> str:
    """``text`` as a CMake quoted argument whose value is ``text`` itself: no
    variable reference (``${}``, ``$ENV{}``), quote or newline left for CMake
    to interpret. ``;`` and ``$<`` are refused, since CMake would still split
    the value as a list or evaluate a generator expression in it where a
    property holds paths."""
    for bad in (";", "$<"):
        if bad in text:
            raise CompileError(
                f"{what} {text!r} holds {bad!r}, which CMake cannot take literally in a path; "
                "move it to a path without it"
            )
    return '"' + "".join(_CMAKE_ESCAPES.get(c, c) for c in text) + '"'


def for_message(name: str) -> str:
    """A name as an error message shows it: as it is when that is plain, else
    as a Python literal, so that the message stays one line."""
    return name if name.isprintable() and name.strip() == name else repr(name)


_IDENTIFIER_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_")
# C++20's keywords and alternative tokens (`and`, `not`, ...), and `import`
# and `module`, which open a module directive at the head of a line.
_KEYWORDS = frozenset(
    """
    alignas alignof asm auto bool break case catch char char8_t char16_t char32_t class
    concept const consteval constexpr constinit const_cast continue co_await co_return
    co_yield decltype default delete do double dynamic_cast else enum explicit export
    extern false float for friend goto if inline int long mutable namespace new noexcept
    nullptr operator private protected public register reinterpret_cast requires return
    short signed sizeof static static_assert static_cast struct switch template this
    thread_local throw true try typedef typeid typename union unsigned using virtual void
    volatile wchar_t while
    and and_eq bitand bitor compl not not_eq or or_eq xor xor_eq
    import module
    """.split()  # noqa: SIM905 (ninety words read best as words)
)
# Top-level namespaces of the generated code (templates/, tfcompile's classes
# in tfreeze_compiled) and of the headers it includes (TensorFlow's, absl's,
# Eigen's), plus those the standard reserves: a model namespace of the same
# name would merge with one of them.
_NAMESPACES = frozenset(
    {"std", "posix", "tfreeze", "tfreeze_compiled", "tensorflow", "xla", "tsl", "Eigen", "absl"}
    | {"ml_dtypes", "stream_executor"}
)
# Predefined by GCC and Clang in GNU modes (-std=gnu++17, CMake's default),
# where `namespace linux` reads `namespace 1`.
_GNU_MACROS = frozenset({"linux", "unix", "i386"})
_FUTURE_STD = re.compile(r"std[0-9]+")  # reserved for later standards


def check_name(name: str) -> str:
    """``--name``, the namespace, header, library and CMake target of the
    compiled model: returned when it is an identifier of its own, else refused
    in one line saying why and what to pass instead."""
    problem = _identifier_problem(name) or _reserved_problem(name)
    if problem:
        raise CompileError(f"--name {name!r} {problem}")
    if _is_c_library_symbol(name):
        # The name becomes a namespace at global scope, where the system
        # headers the generated code includes declare the C library's functions
        # (seen: `sleep`, from unistd.h): the two clash at compile time.
        raise CompileError(
            f"--name {name!r} is also a C library function, which the generated code's "
            f"headers declare at global scope; pick another name, e.g. {_suggestion(name)}"
        )
    return name


def _identifier_problem(name: str) -> str | None:
    bad = next((c for c in name if c not in _IDENTIFIER_CHARACTERS), None)
    if bad is not None:
        return (
            f"is not a C++ identifier: {bad!r} is not an ASCII letter, digit or _ "
            "(it names a C++ namespace, a header and a CMake target)"
        )
    if not name or name[0].isdigit():
        return "is not a C++ identifier (letters, digits and _, not first a digit)"
    return None


def _reserved_problem(name: str) -> str | None:
    instead = f"pick another name, e.g. {_suggestion(name)}"
    if name.startswith("_") or "__" in name:
        return (
            "is reserved for the C++ implementation (a global name starting with _, or any "
            f"name holding __); {instead}"
        )
    if name in _KEYWORDS:
        return f"is a C++ keyword; {instead}"
    if name in _NAMESPACES or _FUTURE_STD.fullmatch(name):
        return f"is a namespace of the generated code, its headers or the C++ standard; {instead}"
    if name in _GNU_MACROS:
        return f"is a macro the C++ compiler predefines in GNU modes; {instead}"
    if name == "main":
        return f"would clash with the main() of the generated tools; {instead}"
    return None


def _suggestion(name: str) -> str:
    stem = re.sub("_+", "_", name).strip("_")
    return f"{stem}_model" if stem else "model"


def _is_c_library_symbol(name: str) -> bool:
    """A function or variable the C and math libraries export, as seen from
    this process: a superset of what the system headers declare."""
    import ctypes

    try:
        ctypes.CDLL(None)[name]
    except AttributeError:
        return False
    return True
