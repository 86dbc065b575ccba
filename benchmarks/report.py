"""latest.md from the results: latency by runner, tuned vs ONNX Runtime,
cold start, and issue 12's targets with a verdict computed from the figures."""

from __future__ import annotations

SMALL_MODELS = ("mlp", "small_cnn")
LATENCY_COLUMNS = (
    ("default", "tfreeze default"),
    ("tf_executor", "TF executor"),
    ("single_threaded", "single-threaded executor"),
    ("caller_thread", "caller thread"),
    ("single_threaded+caller", "both"),
    ("compiled", "compiled"),
    ("onnxruntime", "ORT raw"),
    ("onnxruntime - loop", "ORT − loop"),
    ("onnxruntime empty loop", "ORT loop alone"),
    ("session.run", "session.run"),
    ("keras", "Keras"),
)


def _num(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ratio(a, b) -> float | None:
    return None if a is None or not b or b <= 0 else a / b


def ort_adjusted(p50: dict) -> float | None:
    raw, loop = p50.get("onnxruntime"), p50.get("onnxruntime empty loop")
    return None if raw is None or loop is None else raw - loop


def latency_table(rows: list[dict]) -> list[str]:
    head = "| model | batch | threads | " + " | ".join(t for _, t in LATENCY_COLUMNS) + " |"
    lines = [head, "| --- | ---: | ---: |" + " ---: |" * len(LATENCY_COLUMNS)]
    for row in rows:
        p50 = {**row["p50_us"], "onnxruntime - loop": ort_adjusted(row["p50_us"])}
        p50["compiled"] = row.get("compiled", {}).get("p50_us")
        cells = [_num(p50.get(key)) for key, _ in LATENCY_COLUMNS]
        lines.append(
            f"| {row['model']} | {row['batch']} | {row['threads']} | " + " | ".join(cells) + " |"
        )
    errors = [
        f"- {r['model']} batch {r['batch']} threads {r['threads']}, {name}: {why}"
        for r in rows
        for name, why in r.get("errors", {}).items()
    ]
    errors += [
        f"- compiled: {why}"
        for why in dict.fromkeys(r.get("compiled", {}).get("error") for r in rows)
        if why
    ]
    return lines + ([""] + errors if errors else [])


def ort_at(rows: list[dict], model: str, batch: int, threads: int) -> dict | None:
    for row in rows:
        if (row["model"], row["batch"], row["threads"]) == (model, batch, threads):
            return row["p50_us"]
    return None


def tuned_ratios(tuned: dict) -> tuple[float | None, float | None]:
    """tuned / ORT raw and tuned / ORT without its loop, ORT at the tuned
    config's intra-op threads."""
    p50 = tuned["ort_p50_us"]
    return _ratio(tuned["p50_us"], p50.get("onnxruntime")), _ratio(
        tuned["p50_us"], ort_adjusted(p50)
    )


def tuned_table(tuned_rows: list[dict]) -> list[str]:
    lines = [
        "| model | batch | tuned | tuned / ORT raw | tuned / ORT − loop | ORT threads "
        "| tfreeze / bare (A/A) | tuned config |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for tuned in tuned_rows:
        raw, adjusted = tuned_ratios(tuned)
        overhead = tuned.get("overhead") or {}
        loops = f"{_num(overhead.get('ratio'), 3)} ({_num(overhead.get('aa_ratio'), 3)})"
        lines.append(
            f"| {tuned['model']} | {tuned['batch']} | {_num(tuned['p50_us'])} | {_num(raw, 2)} | "
            f"{_num(adjusted, 2)} | {tuned['ort_threads']} | {loops} | {tuned['label']} |"
        )
    failed = [
        f"- {t['model']} batch {t['batch']}, a tune trial failed: {error[:200]}"
        for t in tuned_rows
        for error in dict.fromkeys(t.get("errors", []))
    ]
    return lines + ([""] + failed if failed else [])


def cold_table(cold: dict) -> list[str]:
    lines = [
        "| model | tfreeze ms | Python ms | ratio | compiled ms | tfreeze RSS MB | Python MB "
        "| ratio | compiled MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, figures in cold.items():
        t, p, c = figures["tfreeze"], figures["python"], figures.get("compiled", {})
        ms, mb = "process_to_first_result_ms", "peak_rss_mb"
        lines.append(
            f"| {kind} | {t[ms]:.0f} | {p[ms]:.0f} | {t[ms] / p[ms]:.2f} | {_num(c.get(ms), 0)} | "
            f"{t[mb]:.0f} | {p[mb]:.0f} | {t[mb] / p[mb]:.2f} | {_num(c.get(mb), 0)} |"
        )
    return lines


def markdown(results: dict) -> str:
    rows, tuned, cold = results["rows"], results["tuned"], results["cold_start"]
    lines = [
        f"Machine: {results['machine']}. Plan: {results['plan_name']}. p50 latency in µs; "
        "threads = intra-op threads, inter-op 1 (caller-thread runs: the calling thread).",
        "",
        *latency_table(rows),
        "",
        "`tfreeze tune`'s best (searches threads, executor, oneDNN, XLA, Grappler, caller "
        "thread), against ONNX Runtime at the tuned config's intra-op threads; tfreeze's "
        "overhead over the bare C API loop at 1 thread, A/A noise floor in brackets:",
        "",
        *tuned_table(tuned),
        "",
        "Cold start (fresh process, batch 1): process start → first result, peak RSS:",
        "",
        *cold_table(cold),
        "",
        "Issue 12's targets, computed from the figures above:",
        "",
        *targets_table(results),
    ]
    return "\n".join(lines) + "\n"


def targets_table(results: dict) -> list[str]:
    from targets import targets

    lines = ["| target | measured | verdict |", "| --- | --- | --- |"]
    lines += [
        f"| {name} | {measured} | {verdict} |" for name, measured, verdict in targets(results)
    ]
    return lines
