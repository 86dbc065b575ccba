"""ONNX Runtime as the benchmark times it: the .pb converted once by tf2onnx
(opset 17), `InferenceSession.run` in a Python loop.

That loop's own cost (building the feed, binding inputs, returning outputs to
numpy) is part of ORT's figure and matters on models that run in microseconds.
`empty_graph` is a graph with the model's inputs (same names, dtypes, shapes)
and one Shape node per input: the same Python loop timed on it is that cost
with no compute, to subtract from ORT's p50 so the comparison is fair both ways.
"""

from __future__ import annotations

from pathlib import Path


def convert(pb: Path, input_names: list[str], output_names: list[str], destination: Path) -> Path:
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    proto, _ = tf2onnx.convert.from_graph_def(
        graph_def,
        input_names=[f"{n}:0" for n in input_names],
        output_names=[f"{n}:0" for n in output_names],
        opset=17,
    )
    destination.write_bytes(proto.SerializeToString())
    return destination


def empty_graph(model_bytes: bytes) -> bytes:
    import onnx
    from onnx import TensorProto, helper

    source = onnx.load_from_string(model_bytes)
    inputs = list(source.graph.input)
    nodes = [helper.make_node("Shape", [i.name], [f"shape_{k}"]) for k, i in enumerate(inputs)]
    outputs = [
        helper.make_tensor_value_info(f"shape_{k}", TensorProto.INT64, [None])
        for k in range(len(inputs))
    ]
    graph = helper.make_graph(nodes, "empty", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = source.ir_version
    return model.SerializeToString()


def session_step(model_bytes: bytes, feeds: dict, threads: int):
    """A no-argument function running one `session.run` on `feeds` (keyed by
    the .pb's input names)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # ORT's default sequential mode uses no inter-op pool
    session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    onnx_feeds = {f"{name}:0": value for name, value in feeds.items()}
    return lambda: session.run(None, onnx_feeds)


def p50s(onnx_path: str, feeds: dict, threads: int, warmup: int, runs: int) -> dict:
    """ORT's p50 on the model and on its empty graph, timed the same way."""
    from tfreeze.measure.latency import time_python_loop

    model_bytes = Path(onnx_path).read_bytes()
    figures = {}
    for name, graph in (
        ("onnxruntime", model_bytes),
        ("onnxruntime empty loop", empty_graph(model_bytes)),
    ):
        step = session_step(graph, feeds, threads)
        figures[name] = time_python_loop(step, warmup=warmup, iterations=runs)["p50_us"]
    return figures
