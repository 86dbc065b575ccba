"""Issue 12's targets, each with the figures it rests on and a verdict
computed from them: "met", "not met", or "no data" (not measured in this run)."""

from __future__ import annotations

from report import SMALL_MODELS, _ratio, ort_adjusted, ort_at, tuned_ratios

Target = tuple[str, str, str]


def _verdict(values: list[float | None], limit: float) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "no data"
    met = all(v <= limit for v in known)
    partial = "" if len(known) == len(values) else f" ({len(values) - len(known)} not measured)"
    return ("**met**" if met else "**not met**") + partial


def _fmt(pairs: list[tuple[str, float | None]], digits: int = 2) -> str:
    return ", ".join(f"{k} {'—' if v is None else f'{v:.{digits}f}'}" for k, v in pairs) or "—"


def tuned_vs_ort(results: dict) -> list[Target]:
    batch1 = [t for t in results["tuned"] if t["batch"] == 1]
    pairs = [(t["model"], tuned_ratios(t)) for t in batch1]
    raw = [(m, r[0]) for m, r in pairs]
    adjusted = [(m, r[1]) for m, r in pairs]
    name = "TF runtime, tuned ≤ 1.0× ONNX Runtime, batch 1, same threads"
    return [
        (f"{name} (ORT raw)", _fmt(raw), _verdict([v for _, v in raw], 1.0)),
        (
            f"{name} (ORT − its Python loop)",
            _fmt(adjusted),
            _verdict([v for _, v in adjusted], 1.0),
        ),
    ]


def compiled_vs_ort(results: dict) -> list[Target]:
    found = []
    for model, limit in (("mlp", 0.25), ("small_cnn", 1.0)):
        p50 = ort_at(results["rows"], model, 1, 1)
        if p50 is None:
            continue  # the model was not in this run
        row = next(
            r for r in results["rows"] if (r["model"], r["batch"], r["threads"]) == (model, 1, 1)
        )
        compiled = row.get("compiled", {}).get("p50_us")
        ratios = [
            ("raw", _ratio(compiled, p50.get("onnxruntime"))),
            ("− loop", _ratio(compiled, ort_adjusted(p50))),
        ]
        name = f"compiled ≤ {limit}× ONNX Runtime, {model}, batch 1, 1 thread"
        found.append((name, _fmt(ratios), _verdict([v for _, v in ratios], limit)))
    return found


def compiled_start(results: dict) -> list[Target]:
    cold = {k: v for k, v in results["cold_start"].items() if k in SMALL_MODELS}
    rss = [(k, v.get("compiled", {}).get("peak_rss_mb")) for k, v in cold.items()]
    start = [
        (
            k,
            _ratio(
                v.get("compiled", {}).get("process_to_first_result_ms"),
                v["python"]["process_to_first_result_ms"],
            ),
        )
        for k, v in cold.items()
    ]
    return [
        (
            "compiled peak RSS ≤ 50 MB, small models",
            _fmt(rss, 0) + " MB",
            _verdict([v for _, v in rss], 50),
        ),
        (
            "compiled start → first result ≤ 0.1× Python's, small models",
            _fmt(start),
            _verdict([v for _, v in start], 0.1),
        ),
    ]


def runtime_memory(results: dict) -> list[Target]:
    mb = "peak_rss_mb"
    ratios = [(k, v["tfreeze"][mb] / v["python"][mb]) for k, v in results["cold_start"].items()]
    return [
        ("TF runtime peak RSS ≤ 0.5× Python's", _fmt(ratios), _verdict([v for _, v in ratios], 0.5))
    ]


def overhead(results: dict) -> list[Target]:
    """Met if every ratio is within 1.02; failing that, "met within the noise"
    if no row's excess over 1 is larger than its A/A control's deviation
    from 1 (two identical bare loops differing by that much)."""
    loops = [t["overhead"] for t in results["tuned"] if t.get("overhead")]
    names = [f"{t['model']} b{t['batch']}" for t in results["tuned"] if t.get("overhead")]
    measured = _fmt([(n, o["ratio"]) for n, o in zip(names, loops, strict=True)], 3)
    if loops:
        floor = [o["aa_ratio"] for o in loops]
        prepare = [o["prepare_ns"] for o in loops]
        measured += (
            f" (A/A noise floor {min(floor):.3f}–{max(floor):.3f}; tfreeze's own work per "
            f"call timed alone: {min(prepare):.0f}–{max(prepare):.0f} ns)"
        )
    verdict = _verdict([o["ratio"] for o in loops], 1.02)
    noisy = all(o["ratio"] - 1 <= max(0.02, abs(o["aa_ratio"] - 1)) for o in loops)
    if verdict.startswith("**not met") and noisy:
        verdict = "**met** within the noise: no ratio exceeds 1 by more than its A/A control"
    return [("tfreeze ≤ 1.02× the bare C API loop", measured, verdict)]


def targets(results: dict) -> list[Target]:
    return [
        *tuned_vs_ort(results),
        *compiled_vs_ort(results),
        *compiled_start(results),
        *runtime_memory(results),
        *overhead(results),
    ]
