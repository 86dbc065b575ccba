"""The "compiled" column: hooks for `tfreeze compile` (issue 12, item 2), which
this script does not build. Both take a shell command template; without one,
or when the command fails, the figure is None and the table says why.

--compiled-bench TEMPLATE   latency: the command runs the compiled model in a
    timing loop and prints a JSON object with "p50_us" on its last stdout line.
--compiled-start TEMPLATE   cold start: the command loads the compiled model,
    runs it once and exits. The script times process start to exit (an upper
    bound on start -> first result) and reads peak RSS with GNU time; a
    "peak_rss_mb" or "first_result_ms" in the command's JSON output wins.

Templates are formatted with {pb} (the frozen model), {batch}, {threads} and
{workdir}, e.g.
  --compiled-bench 'tfreeze bench {workdir}/compiled/{model}_b{batch} --json --threads {threads}'
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def _run(command: str, timeout: float) -> tuple[dict | None, str | None, float]:
    """(last JSON line or None, error or None, wall seconds)."""
    started = time.perf_counter()
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{command!r}: {error}", time.perf_counter() - started
    wall = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return None, f"{command!r}: {last[:200]}", wall
    lines = done.stdout.strip().splitlines()
    try:
        return (json.loads(lines[-1]) if lines else {}), None, wall
    except ValueError:
        return {}, None, wall


def compiled_p50(template: str | None, **fields) -> dict:
    """{"p50_us": float} from the compiled-bench hook, or {"p50_us": None,
    "error": why}."""
    if not template:
        return {"p50_us": None, "error": "no --compiled-bench command given"}
    report, error, _ = _run(template.format(**fields), timeout=600)
    if error or not isinstance(report, dict) or "p50_us" not in report:
        return {"p50_us": None, "error": error or "the command printed no JSON with p50_us"}
    return {"p50_us": float(report["p50_us"])}


def compiled_start(template: str | None, **fields) -> dict:
    """Start -> first result (ms) and peak RSS (MB) of the compiled-start hook."""
    if not template:
        return {"error": "no --compiled-start command given"}
    command = template.format(**fields)
    gnu_time = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile(suffix=".rss") as rss_file:
        # GNU time forks the command from a small process, so the peak it
        # reports is the command's own (a child of this large process would
        # inherit this process's high-water mark).
        wrapped = f"{gnu_time} -f %M -o {rss_file.name} {command}"
        report, error, wall = _run(wrapped if Path(gnu_time).exists() else command, 120)
        text = Path(rss_file.name).read_text().strip().splitlines()
    if error:
        return {"error": error}
    result = {"process_to_first_result_ms": wall * 1e3}
    if text and text[-1].isdigit():
        result["peak_rss_mb"] = int(text[-1]) / 1024  # kB
    for key, ours in (
        ("peak_rss_mb", "peak_rss_mb"),
        ("first_result_ms", "process_to_first_result_ms"),
    ):
        if isinstance(report, dict) and key in report:
            result[ours] = float(report[key])
    return result
