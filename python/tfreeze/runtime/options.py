"""The C++ runtime's Options from Python keywords, and tuned config files.

Importing this module does not import TensorFlow's Python package.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["EXECUTORS", "make_options", "missing_environment"]

# Options.executor's names (tfreeze/options.h): TensorFlow's executor, ops one
# after another in the calling thread, or (the default) the second for small
# graphs where it can run them.
EXECUTORS = ("default", "single_threaded", "auto")


def make_options(
    *,
    intra_op_threads: int | None = None,
    inter_op_threads: int | None = None,
    device: str | None = None,
    gpu_allow_growth: bool = False,
    gpu_memory_fraction: float | None = None,
    visible_devices: str | None = None,
    xla: bool = False,
    config_proto: bytes | None = None,
    signature: str = "serving_default",
    tags: list[str] | tuple[str, ...] = ("serve",),
    graph_optimizations: bool = True,
    executor: str = "auto",
    caller_thread: bool = False,
    allow_unsafe_ops: bool | Sequence[str] = False,
    config: str | os.PathLike[str] | None = None,
    memory_limit_bytes: int | None = None,
    cpu_seconds: int | None = None,
    max_constant_bytes: int | str | None = None,
) -> Any:
    """The C++ runtime's Options; unknown keywords are a TypeError as usual."""
    for label, value in (
        ("intra_op_threads", intra_op_threads),
        ("inter_op_threads", inter_op_threads),
        ("memory_limit_bytes", memory_limit_bytes),
        ("cpu_seconds", cpu_seconds),
    ):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{label} must be a positive integer or None, got {value!r}")
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}; got {executor!r}")
    # Imported here, not at the top: the CLI builds its parser without loading TensorFlow.
    from tfreeze._native import _core

    options = _core.Options()
    options.intra_op_threads = intra_op_threads or 0
    options.inter_op_threads = inter_op_threads or 0
    options.device = device or ""
    options.gpu_allow_growth = bool(gpu_allow_growth)
    options.gpu_memory_fraction = float(gpu_memory_fraction or 0.0)
    options.visible_devices = visible_devices or ""
    options.xla_jit = bool(xla)
    options.config_proto = config_proto or b""
    options.saved_model_signature = signature
    options.saved_model_tags = list(tags)
    options.graph_optimizations = bool(graph_optimizations)
    options.executor = executor
    options.caller_thread = bool(caller_thread)
    options.isolation_memory_limit_bytes = memory_limit_bytes or 0
    options.isolation_cpu_seconds = cpu_seconds or 0
    options.max_constant_bytes = _constant_bytes(max_constant_bytes)
    if isinstance(allow_unsafe_ops, str):
        raise TypeError(
            f"allow_unsafe_ops takes True or a list of op names, got {allow_unsafe_ops!r}"
        )
    if isinstance(allow_unsafe_ops, bool):
        options.allow_unsafe_ops = allow_unsafe_ops
    else:
        options.allowed_unsafe_ops = list(allow_unsafe_ops)
    if config is not None:
        options = _core.load_options_file(os.fspath(config), options)
        _warn_about_environment(config)
    return options


# Options::max_constant_bytes: 0 is the default rule, the largest uint64 none.
_NO_CONSTANT_LIMIT = 2**64 - 1


def _constant_bytes(value: int | str | None) -> int:
    """How many bytes constants TensorFlow fills in may take (tfreeze/options.h):
    None for the default (the larger of 256 MiB and 4x the graph's size), a
    byte count, or "unlimited"."""
    if value is None:
        return 0
    if value == "unlimited":
        return _NO_CONSTANT_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f'max_constant_bytes must be a positive byte count, "unlimited" or None, got {value!r}'
        )
    return min(value, _NO_CONSTANT_LIMIT)


def missing_environment(config: str | os.PathLike[str]) -> dict[str, str]:
    """The variables a tuned config file sets (e.g. TF_ENABLE_ONEDNN_OPTS) that
    this process did not start with: TensorFlow reads them once, at load."""
    with open(config) as file:
        wanted = json.load(file).get("environment", {})
    return {name: value for name, value in wanted.items() if os.environ.get(name) != value}


def _warn_about_environment(config: str | os.PathLike[str]) -> None:
    """A tuned setting that is not already in force cannot be applied now."""
    for name, value in missing_environment(config).items():
        warnings.warn(
            f"{os.fspath(config)} was tuned with {name}={value}, which TensorFlow reads at "
            f"start-up; set it in the environment that starts this process",
            stacklevel=3,
        )
