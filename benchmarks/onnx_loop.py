"""ONNX Runtime as the benchmark times it: the .pb converted once by tf2onnx
(opset 17), `InferenceSession.run` in a Python loop.

That loop's own cost (building the feed, binding inputs, returning outputs to
numpy) is part of ORT's figure and matters on models that run in microseconds.
`tfreeze.measure.peers.onnx_empty_graph` (what `tfreeze bench --compare`
uses too) is a graph with the model's inputs (same names, dtypes, shapes) and
one Shape node per input: the same Python loop timed on it is that cost with
no compute, to subtract from ORT's p50 so the comparison is fair both ways.
"""

from __future__ import annotations

from pathlib import Path


def convert(pb: Path, input_names: list[str], output_names: list[str], destination: Path) -> Path:
    import tensorflow as tf

    from tfreeze.measure.peers import to_onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    inputs, outputs = [f"{n}:0" for n in input_names], [f"{n}:0" for n in output_names]
    destination.write_bytes(to_onnx(graph_def, inputs, outputs))
    return destination


def session_step(model_bytes: bytes, feeds: dict, threads: int):
    """A no-argument function running one `session.run` on `feeds` (keyed by
    the .pb's input names)."""
    from tfreeze.measure.peers import ort_session

    # ORT's default sequential mode uses no inter-op pool.
    session = ort_session(model_bytes, threads, 1)
    onnx_feeds = {f"{name}:0": value for name, value in feeds.items()}
    return lambda: session.run(None, onnx_feeds)


def p50s(onnx_path: str, feeds: dict, threads: int, warmup: int, runs: int) -> dict:
    """ORT's p50 on the model and on its empty graph, timed the same way."""
    from tfreeze.measure.latency import time_python_loop
    from tfreeze.measure.peers import onnx_empty_graph

    model_bytes = Path(onnx_path).read_bytes()
    figures = {}
    for name, graph in (
        ("onnxruntime", model_bytes),
        ("onnxruntime empty loop", onnx_empty_graph(model_bytes)),
    ):
        step = session_step(graph, feeds, threads)
        figures[name] = time_python_loop(step, warmup=warmup, iterations=runs)["p50_us"]
    return figures
