"""How many runs each measurement gets, and the full run's wall time
estimated from the phases of earlier runs (kept in the work directory's
timings.json, not in the results: a `--quick` run's timings estimate a full one).

Every phase scales with one number, its calibrated `runs` (enough runs of
tfreeze's default config for `seconds` of timing): the other runners, the
overhead blocks and the tune trials take a fixed share of it. So a phase's
time is `fixed_s` (process starts, loading, conversion) plus `timed_s`, which
grows in proportion to `runs`.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Plan:
    seconds: float  # timing per measurement, before clipping
    min_runs: int
    max_runs: int
    warmup: int
    tune_share: float  # tune's iterations per trial, as a share of runs
    overhead_blocks: int  # at most; fewer for slow models

    def runs(self, p50_us: float) -> int:
        wanted = int(self.seconds * 1e6 / max(p50_us, 1e-3))
        return max(self.min_runs, min(self.max_runs, wanted))

    def warmup_for(self, runs: int) -> int:
        """Fewer warm-up runs where runs are few and slow (ResNet50 at batch 32)."""
        return min(self.warmup, max(2, runs // 2))

    def tune_iterations(self, runs: int) -> int:
        return max(3, int(runs * self.tune_share))

    def overhead_shape(self, runs: int) -> tuple[int, int]:
        """(blocks, runs per block) for overhead.cc. Slow models get fewer
        blocks: tfreeze's ~0.1 µs per call cannot show against 0.1-1 s runs."""
        if runs >= 100:
            blocks = self.overhead_blocks
        else:
            blocks = max(4, self.overhead_blocks // (2 if runs >= 20 else 4))
        return blocks, max(3, runs // 4)


# The full run: ~1 s of timing per figure, at least 5 runs (ResNet50 at batch
# 32 takes ~0.5 s a run), tune trials a quarter of that; fits ~25 min on 2 cores.
FULL = Plan(seconds=1.0, min_runs=5, max_runs=400, warmup=5, tune_share=0.25, overhead_blocks=16)
# A check that everything runs: a few runs each, figures only indicative.
QUICK = Plan(seconds=0.1, min_runs=3, max_runs=40, warmup=2, tune_share=0.25, overhead_blocks=4)


def load_timings(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def record(path: Path, phases: dict[str, dict]) -> None:
    """Merges this run's phases into the timings file (newest wins)."""
    timings = load_timings(path)
    timings.update(phases)
    path.write_text(json.dumps(timings, indent=1, sort_keys=True) + "\n")


def phase(fixed_s: float, timed_s: float, runs: int, plan: Plan) -> dict:
    return {
        "load_average": round(os.getloadavg()[0], 1),  # a busy machine inflates both parts
        "fixed_s": round(max(fixed_s, 0.0), 3),
        "timed_s": round(timed_s, 3),
        "runs": runs,
        "plan": asdict(plan),
    }


def work(key: str, plan: Plan, runs: int) -> int:
    """Timed runs a phase makes under `plan`, in units of its base p50."""
    if key.endswith("/overhead"):  # two processes; each: two warm-up blocks, then A and B
        blocks, per_block = plan.overhead_shape(runs)
        return 2 * (2 + 2 * blocks) * per_block
    if key.endswith("/tune"):  # per trial
        iterations = plan.tune_iterations(runs)
        return min(30, iterations) + iterations
    return plan.warmup_for(runs) + runs


def estimate(timings: dict, keys: list[str], plan: Plan) -> tuple[float, list[str]]:
    """(seconds, keys with no earlier timing) for the phases `keys` under
    `plan`: each phase's fixed part as it was, its timed part scaled by the
    runs `plan` would give it (from the base p50 recorded with it)."""
    total, missing = 0.0, []
    for key in keys:
        if key not in timings:
            missing.append(key)
            continue
        done = timings[key]
        total += done["fixed_s"]
        if "base_p50_us" in done:
            before = Plan(**done["plan"])
            wanted = work(key, plan, plan.runs(done["base_p50_us"]))
            total += done["timed_s"] * wanted / max(work(key, before, done["runs"]), 1)
    return total, missing


def load_note(timings: dict, keys: list[str]) -> str:
    loads = [timings[k]["load_average"] for k in keys if "load_average" in timings.get(k, {})]
    if not loads:
        return ""
    return f" (timed at load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores)"
