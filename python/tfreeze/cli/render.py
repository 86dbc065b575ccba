"""Tables and JSON for the command line (rich renders the tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from tfreeze.cli.common import printable

if TYPE_CHECKING:  # the CLI imports this module before it knows it needs them
    import numpy as np

    from tfreeze.freezer.pipeline import FreezeReport
    from tfreeze.measure.parity import ParityReport

__all__ = [
    "bench_table",
    "cold_start_table",
    "FreezeProgress",
    "latency_table",
    "op_histogram_table",
    "outputs_table",
    "parity_table",
    "print_freeze_report",
    "signature_table",
    "tune_table",
    "unsafe_ops_table",
    "verify_table",
]


def shown(text: str) -> Text:
    """A name or path from a file, as a table cell: no rich markup, no
    terminal control characters."""
    return Text(printable(text))


def _shape(shape: Any) -> str:
    return "[" + ", ".join("?" if d is None or d == -1 else str(d) for d in shape) + "]"


def _io_table(title: str, rows: list[tuple[str, str, str, str]]) -> Table:
    table = Table(title=shown(title))
    for column in ("", "name", "dtype", "shape"):
        table.add_column(column)
    for kind, name, dtype, shape in rows:
        table.add_row(kind, shown(name), shown(dtype), shape)
    return table


class FreezeProgress:
    """A live line naming the freeze stage that runs, and the ones finished."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._status: Any = None
        self._done: list[str] = []

    def __enter__(self) -> FreezeProgress:
        self._status = self._console.status("freezing: load")
        self._status.__enter__()
        return self

    def stage(self, name: str) -> None:
        if name not in self._done:
            self._done.append(name)
        steps = " > ".join(self._done[:-1])
        self._status.update(f"freezing: {steps + ' > ' if steps else ''}[bold]{name}[/bold]")

    def __exit__(self, *exc: object) -> None:
        self._status.__exit__(*exc)


def print_freeze_report(console: Console, report: FreezeReport) -> None:
    rows = [
        ("input", e.name + (" (optional)" if e.optional else ""), e.dtype, _shape(e.shape))
        for e in report.inputs
    ]
    rows += [("output", e.name, e.dtype, _shape(e.shape)) for e in report.outputs]
    console.print(_io_table(f"froze {report.output_path} ({report.source_kind})", rows))
    for note in report.notes:
        console.print(f"[cyan]note:[/cyan] {note}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if report.init:
        console.print(f"run once at load: {', '.join(report.init)}")
    if report.optimization:
        o = report.optimization
        console.print(
            f"optimized: {o['nodes_before']} -> {o['nodes_after']} nodes, "
            f"{o['bytes_before']:,} -> {o['bytes_after']:,} bytes"
        )
    verified = (
        f"frozen graph vs source: max abs diff {report.max_abs_diff:.3g}"
        if report.verification
        else "not verified (--no-verify)"
    )
    stages = ", ".join(f"{name} {seconds:.1f}" for name, seconds in report.stages.items())
    console.print(
        f"{report.node_count} nodes, {report.byte_size:,} bytes, {report.seconds:.1f} s "
        f"({stages}); {verified}"
    )


def signature_table(model: Any, path: str) -> Table:
    rows = [
        ("input", s.name + (" (optional)" if s.optional else ""), s.dtype_name, _shape(s.shape))
        for s in model.inputs
    ]
    rows += [("output", s.name, s.dtype_name, _shape(s.shape)) for s in model.outputs]
    return _io_table(path, rows)


def op_histogram_table(stats: Any) -> Table:
    """Op type -> node count, and a last row with the weights' size."""
    table = Table(title=f"{sum(stats.ops.values())} ops")
    table.add_column("op")
    table.add_column("count", justify="right")
    for op, count in stats.ops.items():
        table.add_row(op, str(count))
    table.add_section()
    table.add_row("parameters", f"{stats.parameters:,} ({stats.parameter_bytes:,} bytes)")
    return table


def unsafe_ops_table(found: list[dict[str, str]]) -> Table:
    table = Table(
        title="[yellow]ops that reach outside the model[/yellow] (refused at load unless "
        "allowed: --allow-unsafe-ops)"
    )
    for column in ("node", "op", "why"):
        table.add_column(column)
    for entry in found:
        where = entry["node"] + (f" (in {entry['function']})" if entry["function"] else "")
        table.add_row(shown(where), shown(entry["op"]), entry["reason"])
    return table


def outputs_table(outputs: dict[str, np.ndarray], saved_to: str | None) -> Table:
    table = Table(title=f"outputs (saved to {saved_to})" if saved_to else "outputs")
    for column in ("name", "dtype", "shape", "values"):
        table.add_column(column)
    for name, value in outputs.items():
        import numpy as np

        preview = np.array2string(value.ravel()[:6], precision=5, separator=", ")
        if value.size > 6:
            preview = preview[:-1] + ", ...]"
        table.add_row(shown(name), str(value.dtype), _shape(value.shape), preview)
    return table


def parity_table(report: ParityReport) -> Table:
    verdict = "[green]PASS[/green]" if report.passed else "[red]FAIL[/red]"
    table = Table(
        title=f"parity {verdict} (batch {report.batch_size}, rtol {report.rtol:g}, "
        f"atol {report.atol:g})"
    )
    for column in ("output", "C++ vs Python .pb", "C++ vs source: max abs", "max rel", "result"):
        table.add_column(column)
    for output in report.outputs:
        exact = (
            "bit-exact"
            if output.cpp_vs_python.bit_exact
            else (f"[red]differs (max abs {output.cpp_vs_python.max_abs:.3g})[/red]")
        )
        source = output.cpp_vs_source
        table.add_row(
            shown(output.name),
            exact,
            f"{source.max_abs:.3g}" if source else "-",
            f"{source.max_rel:.3g}" if source else "-",
            "pass" if output.passed else "[red]fail[/red]",
        )
    config = report.session_config
    if config:
        table.caption = (
            f"both sides: intra/inter-op threads {config['intra_op_threads']}/"
            f"{config['inter_op_threads']}, executor {config['executor']}, oneDNN "
            f"{config['TF_ENABLE_ONEDNN_OPTS']}" + "".join(f"\n{note}" for note in report.notes)
        )
    return table


def verify_table(path: str, report: dict[str, Any]) -> Table:
    verdict = "[green]PASS[/green]" if report["passed"] else "[red]FAIL[/red]"
    table = Table(
        title=f"{path}: stored test vectors {verdict} ({report['cases']} cases, "
        f"rtol {report['rtol']:g}, atol {report['atol']:g})"
    )
    for column in ("output", "case", "max abs", "max rel", "result"):
        table.add_column(column)
    for check in report["checks"]:
        table.add_row(
            shown(check["name"]),
            str(check["case"]),
            f"{check['max_abs']:.3g}",
            f"{check['max_rel']:.3g}",
            "pass" if check["passed"] else "[red]fail[/red]",
        )
    return table


def bench_table(path: str, rows: list[Any]) -> Any:
    """One row per runner, batch and thread count; with peers, a second table
    divides tfreeze's p50 by each peer's compute and raw p50, each labeled."""
    table = Table(
        title=f"{path}: latency (µs); peers: their raw Python loop", caption_justify="left"
    )
    for column in ("runner", "batch", "threads", "p50", "p90", "p99", "mean", "stddev", "items/s"):
        table.add_column(column, justify="left" if column == "runner" else "right")
    for row in rows:
        if row.error and row.runner != "tfreeze":
            continue  # a peer's row in the comparison below says it could not run
        table.add_row(row.runner, str(row.batch), str(row.threads or "auto"), *_latency(row))
    peers = [row for row in rows if row.ratios or (row.error and row.runner != "tfreeze")]
    return Group(table, _peer_table(peers)) if peers else table


def _latency(row: Any) -> list[str]:
    if row.error:
        return ["[red]could not run[/red]", *[""] * 5]
    keys = ("p50_us", "p90_us", "p99_us", "mean_us", "stddev_us")
    return [*(f"{row.stats[k]:.1f}" for k in keys), f"{row.throughput:,.0f}"]


# Two-line headers keep the comparison narrow enough for an 80-column terminal.
_PEER_COLUMNS = (
    "runner",
    "batch",
    "threads",
    "raw\np50",
    "loop\np50",
    "compute\np50",
    "tfreeze\n÷ compute",
    "tfreeze\n÷ raw",
)


def _peer_table(rows: list[Any]) -> Table:
    table = Table(title="against tfreeze (p50 µs, fp32, the same threads)", caption_justify="left")
    for column in _PEER_COLUMNS:
        table.add_column(column, justify="left" if column == "runner" else "right")
    for row in rows:
        head = (row.runner, str(row.batch), str(row.threads or "auto"))
        if row.error:
            table.add_row(*head, "[red]could not run[/red]", *[""] * 4)
            continue
        compute = f"{row.compute_p50_us:.1f}" + (
            "[yellow]*[/yellow]" if row.below_loop_noise else ""
        )
        # A compute figure inside the loop's noise divides into nothing meaningful.
        ratios = [
            "n/a"
            if row.below_loop_noise and r["ratio_to"] == "compute_p50_us"
            else f"{r['value']:.2f}"
            for r in row.ratios
        ]
        table.add_row(
            *head, f"{row.stats['p50_us']:.1f}", f"{row.loop_p50_us:.1f}", compute, *ratios
        )
    table.caption = _peer_caption(rows)
    return table


def _peer_caption(rows: list[Any]) -> str:
    described = {row.runner: row.peer for row in rows if row.peer}
    empties = dict.fromkeys(peer["empty_model"] for peer in described.values())
    # Why a peer could not run goes under the table, not into a narrow column.
    failures = dict.fromkeys(f"{row.runner}: {row.error}" for row in rows if row.error)
    lines = [f"[red]could not run[/red] {escape(printable(f))}" for f in failures]
    lines += [
        "raw: the peer's Python loop. loop: the same loop on an empty model "
        f"({'; '.join(empties) or 'the same inputs'}). compute: raw − loop.",
        "tfreeze runs in a C++ loop: tfreeze ÷ compute is the like-for-like ratio, tfreeze ÷ "
        "raw what a Python user of the peer sees; below 1, tfreeze is faster.",
    ]
    if any(row.below_loop_noise for row in rows):
        lines.append(
            "[yellow]*[/yellow] below the loop's noise: the empty model's loop was as slow"
        )
    lines += [f"{runner}: {peer['settings']}" for runner, peer in described.items()]
    return "\n".join(lines)


def tune_table(path: str, result: Any) -> Table:
    table = Table(title=f"{path}: tuning trials (p50 µs, fresh process each)")
    for column in ("configuration", "p50 µs", "× default"):
        table.add_column(column, justify="left" if column == "configuration" else "right")
    for trial in result.trials:
        marker = " [green]← best[/green]" if trial is result.best else ""
        if trial.error:
            table.add_row(trial.label(), f"[red]{trial.error}[/red]", "-")
        else:
            table.add_row(
                trial.label() + marker,
                f"{trial.p50_us:.1f}",
                f"{trial.p50_us / result.default.p50_us:.2f}",
            )
    return table


def cold_start_table(cold: dict[str, dict[str, float]]) -> Table:
    table = Table(title="cold start, fresh process each")
    for column in (
        "runner",
        "load ms",
        "first run ms",
        "process start → first result ms",
        "peak RSS MB",
    ):
        table.add_column(column, justify="left" if column == "runner" else "right")
    for runner, figures in cold.items():
        table.add_row(
            runner,
            f"{figures['load_ms']:.0f}",
            f"{figures['first_run_ms']:.0f}",
            f"{figures['process_to_first_result_ms']:.0f}",
            f"{figures['peak_rss_mb']:.0f}",
        )
    return table


def latency_table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """Rows of (label, stats); ratios are against the first row's p50."""
    table = Table(title=title)
    for column in ("runner", "p50 µs", "p90 µs", "p99 µs", "× C++ p50"):
        table.add_column(column, justify="right" if column != "runner" else "left")
    baseline = rows[0][1]["p50_us"]
    for label, stats in rows:
        table.add_row(
            label,
            f"{stats['p50_us']:.1f}",
            f"{stats['p90_us']:.1f}",
            f"{stats['p99_us']:.1f}",
            f"{stats['p50_us'] / baseline:.2f}",
        )
    return table
