"""tfcompile, driven from outside: each compile runs in a child process
(``tfcompile_child``) so that an abort inside XLA costs a one-line error, not
the caller's process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tfreeze.errors import CompileError

__all__ = ["run_tfcompile"]

# XLA's message for ops it has no kernel for: one "OP (No registered 'OP'
# OpKernel for XLA_CPU_JIT devices compatible with node {{node NAME}})" per op.
_UNSUPPORTED = re.compile(r"(\w+) \(No registered '\w+' OpKernel .*?\{\{node ([^}]+)\}\}")


def run_tfcompile(
    graph: Path, jobs: list[tuple[Path, Path, str]], target_features: str, xla_flags: list[str]
) -> None:
    """For each (config, prefix, C++ class): writes ``prefix``.h, .o,
    _metadata.o and _constants.o. ``xla_flags`` come before the user's
    own XLA_FLAGS (which win)."""
    requests = [
        {
            "graph": str(graph),
            "config": str(config),
            "prefix": str(prefix),
            "cpp_class": cpp_class,
            "entry_point": "tfreeze_" + cpp_class.replace("::", "_"),
            "target_features": target_features,
        }
        for config, prefix, cpp_class in jobs
    ]
    request_path = jobs[0][1].with_name("tfcompile-requests.json")
    request_path.write_text(json.dumps(requests))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    env["XLA_FLAGS"] = " ".join([*xla_flags, os.environ.get("XLA_FLAGS", "")]).strip()
    result = subprocess.run(
        [sys.executable, "-m", "tfreeze.compile.tfcompile_child", str(request_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    request_path.unlink()
    if result.returncode != 0:
        raise CompileError(_failure(result.returncode, result.stderr))


def _failure(code: int, stderr: str) -> str:
    unsupported = sorted(set(_UNSUPPORTED.findall(stderr)))
    if unsupported:
        listed = ", ".join(f"{node} ({op})" for op, node in unsupported)
        return f"XLA cannot compile these ops: {listed}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    message = next((line for line in lines if line.startswith("tfcompile: ")), None)
    if message:
        return message.removeprefix("tfcompile: ")
    how = f"signal {-code}" if code < 0 else f"exit status {code}"
    last = lines[-1] if lines else "no message"
    return f"tfcompile stopped with {how}; its last line: {last}"
