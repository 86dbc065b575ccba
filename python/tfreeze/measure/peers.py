"""The runtimes `tfreeze bench --compare` times tfreeze against, each one able
to run the model and an *empty* model with the same inputs.

tfreeze is timed in a C++ loop; a peer is timed in a Python loop, whose own
cost (building the call, binding inputs, returning outputs to numpy) is part
of its figure and, on models that run in microseconds, most of it. The empty
model takes the same inputs (names, dtypes, shapes) and returns one trivial
output per input, so the same loop over it is that cost with nothing computed:
subtracting it gives the peer's compute, the figure to compare with tfreeze's.

Every peer runs in fp32 (no reduced-precision rewrite) at the thread count the
bench gives tfreeze. Example::

    peer = PEERS["openvino"]("model.pb", signature, feeds, threads=1)
    peer.step()        # one run of the model, what is timed
    peer.empty_step()  # the same call on the empty model
    peer.describe()    # {"precision": "fp32", "threads": 1, "settings": "..."}
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from tfreeze.signature import IOEntry, Signature

__all__ = [
    "MODULES",
    "PEERS",
    "OnnxRuntimePeer",
    "OpenVinoPeer",
    "Peer",
    "PeerCannotRun",
    "KerasPeer",
    "PythonPeer",
    "onnx_empty_graph",
    "ort_session",
    "read_signature",
    "to_onnx",
]

ONNX_OPSET = 17


class PeerCannotRun(Exception):
    """This peer cannot take this model (a converter lacks an op, say): one
    line saying why, reported as the peer's row."""


class Peer:
    """A runtime to compare with: built for one model, feeds and thread count."""

    name: ClassVar[str]
    empty_model: ClassVar[str] = "the same inputs, each through a Shape op"

    def __init__(
        self,
        path: str | os.PathLike[str],
        signature: Signature,
        feeds: dict[str, np.ndarray],
        threads: int | None,
        source: Any = None,
    ) -> None:
        self.signature = signature
        self.threads = threads
        self._step = self._load(os.fspath(path), feeds, source)
        self._empty: Callable[[], Any] | None = None
        self._feeds = feeds

    def _load(self, path: str, feeds: dict, source: Any) -> Callable[[], Any]:
        raise NotImplementedError

    def _load_empty(self, feeds: dict) -> Callable[[], Any]:
        raise NotImplementedError

    def step(self) -> Any:
        """One run of the model on the feeds, its outputs back in numpy."""
        return self._step()

    def empty_step(self) -> Any:
        """The same call on the empty model (built on first use)."""
        if self._empty is None:
            self._empty = self._load_empty(self._feeds)
        return self._empty()

    def outputs(self) -> dict[str, np.ndarray]:
        """``step``'s outputs by signature name: to check the peer computes
        what tfreeze does, not only how fast."""
        values = self.step()
        return {e.name: np.asarray(v) for e, v in zip(self.signature.outputs, values, strict=True)}

    def describe(self) -> dict[str, Any]:
        return {
            "precision": "fp32",
            "threads": self.threads,
            "settings": self._settings(),
            "empty_model": self.empty_model,
        }

    def _settings(self) -> str:
        return ""


def read_signature(path: str | os.PathLike[str]) -> Signature:
    return Signature.from_graph_def(_graph_def(os.fspath(path)))


def _graph_def(path: str) -> Any:
    import tensorflow as tf

    graph_def = tf.compat.v1.GraphDef()
    with open(path, "rb") as file:
        graph_def.ParseFromString(file.read())
    return graph_def


def _node(tensor: str) -> str:
    return tensor.rsplit(":", 1)[0]


class PythonPeer(Peer):
    """Python TensorFlow's session.run on the same .pb."""

    name = "python"

    def _load(self, path: str, feeds: dict, source: Any) -> Callable[[], Any]:
        from tfreeze.runtime.python_session import PythonSession

        self._session = PythonSession(
            path, intra_op_threads=self.threads, inter_op_threads=self.threads
        )
        return functools.partial(self._run, self._session, feeds)

    def _load_empty(self, feeds: dict) -> Callable[[], Any]:
        from tfreeze.runtime.python_session import PythonSession

        empty = PythonSession.from_bytes(
            _empty_graph_def(self.signature),
            intra_op_threads=self.threads,
            inter_op_threads=self.threads,
        )
        return functools.partial(self._run, empty, feeds)

    @staticmethod
    def _run(session: Any, feeds: dict) -> list[Any]:
        return list(session.run(feeds).values())

    def _settings(self) -> str:
        count = self.threads or 0
        return f"intra_op/inter_op_parallelism_threads={count}/{count}"


def _empty_graph_def(signature: Signature) -> bytes:
    """A tfreeze .pb with the signature's inputs and a Shape of each as outputs."""
    import tensorflow as tf

    from tfreeze.freezer.graph_edit import add_signature_node

    graph = tf.Graph()
    inputs, outputs = [], []
    with graph.as_default():
        for k, entry in enumerate(signature.inputs):
            shape = [None if d < 0 else d for d in entry.shape]
            value = tf.compat.v1.placeholder(tf.as_dtype(entry.dtype), shape, _node(entry.tensor))
            shape_of = tf.shape(value, name=f"empty/shape_{k}")
            inputs.append(IOEntry(entry.name, value.name, entry.dtype, entry.shape))
            outputs.append(IOEntry(f"shape_{k}", shape_of.name, "int32", (len(entry.shape),)))
    graph_def = graph.as_graph_def()
    add_signature_node(graph_def, Signature(tuple(inputs), tuple(outputs)))
    return graph_def.SerializeToString()


def to_onnx(graph_def: Any, input_tensors: list[str], output_tensors: list[str]) -> bytes:
    """The graph converted by tf2onnx, the way every ONNX Runtime figure of
    tfreeze's is made (opset 17)."""
    import tf2onnx

    # tf2onnx logs each op it cannot convert, with a traceback, and goes on;
    # what matters is whether ONNX Runtime takes the result, reported by the caller.
    logger = logging.getLogger("tf2onnx")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        proto, _ = tf2onnx.convert.from_graph_def(
            graph_def, input_names=input_tensors, output_names=output_tensors, opset=ONNX_OPSET
        )
    finally:
        logger.setLevel(level)
    return proto.SerializeToString()


def onnx_empty_graph(model_bytes: bytes) -> bytes:
    """An ONNX model with ``model_bytes``' inputs and one Shape node each."""
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
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    model.ir_version = source.ir_version
    return model.SerializeToString()


def ort_session(model_bytes: bytes, intra: int, inter: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = intra
    options.inter_op_num_threads = inter
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=4)  # one conversion per file, not one per batch and thread count
def _onnx_bytes(path: str) -> bytes:
    signature = read_signature(path)
    return to_onnx(
        _graph_def(path),
        [e.tensor for e in signature.inputs],
        [e.tensor for e in signature.outputs],
    )


class OnnxRuntimePeer(Peer):
    """The .pb converted once by tf2onnx, ``InferenceSession.run``."""

    name = "onnxruntime"

    def _load(self, path: str, feeds: dict, source: Any) -> Callable[[], Any]:
        self._model = _onnx_bytes(path)
        return self._bind(self._model, feeds, [e.tensor for e in self.signature.outputs])

    def _load_empty(self, feeds: dict) -> Callable[[], Any]:
        return self._bind(onnx_empty_graph(self._model), feeds, None)

    def _bind(self, model: bytes, feeds: dict, fetches: list[str] | None) -> Callable[[], Any]:
        try:
            session = ort_session(model, self.threads or 0, self.threads or 0)
        except Exception as error:  # ORT's own classes; tf2onnx left an op it has no converter for
            raise PeerCannotRun(_onnx_reason(error)) from None
        by_tensor = {e.tensor: feeds[e.name] for e in self.signature.inputs}
        return functools.partial(session.run, fetches, by_tensor)

    def _settings(self) -> str:
        count = self.threads or 0
        return f"intra_op/inter_op_num_threads={count}/{count}"


def _onnx_reason(error: Exception) -> str:
    """tf2onnx leaves an op it cannot convert in the graph as it was; ONNX
    Runtime then refuses the graph, naming the op."""
    text = str(error)
    ops = list(dict.fromkeys(re.findall(r"No Op registered for (\S+)", text)))
    if ops:
        return f"tf2onnx has no converter for {', '.join(ops)}; ONNX Runtime refuses the graph"
    first = (text.strip().splitlines() or [type(error).__name__])[0]
    return f"ONNX Runtime refuses tf2onnx's conversion: {first}"


class OpenVinoPeer(Peer):
    """The .pb read by OpenVINO's TensorFlow frontend, compiled for the CPU
    with fp32 forced (it would pick bf16 where the CPU has it), one
    InferRequest whose inputs are set once and shared with the feeds."""

    name = "openvino"

    def _load(self, path: str, feeds: dict, source: Any) -> Callable[[], Any]:
        import openvino as ov

        self._core = ov.Core()
        try:
            self._model = self._core.read_model(path)
            step = self._request(self._model, feeds)
        except RuntimeError as error:
            raise PeerCannotRun(_openvino_reason(error)) from None
        self._outputs = [_port_name(self._model.outputs, e.tensor) for e in self.signature.outputs]
        return step

    def _load_empty(self, feeds: dict) -> Callable[[], Any]:
        import openvino as ov
        import openvino.opset13 as ops

        parameters = []
        for port in self._model.inputs:
            parameter = ops.parameter(port.get_partial_shape(), port.get_element_type())
            parameter.output(0).set_names(set(port.get_names()))
            parameters.append(parameter)
        shapes = [ops.shape_of(p).output(0) for p in parameters]
        return self._request(ov.Model(shapes, parameters, "empty"), feeds)

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
        if self.threads:
            config["INFERENCE_NUM_THREADS"] = self.threads
        return config

    def _request(self, model: Any, feeds: dict) -> Callable[[], Any]:
        import openvino as ov

        compiled = self._core.compile_model(model, "CPU", self._config())
        self._threads_used = compiled.get_property("INFERENCE_NUM_THREADS")
        request = compiled.create_infer_request()
        for entry in self.signature.inputs:
            port = _port_name(compiled.inputs, entry.tensor)
            # Set once and shared: the loop then times the inference, not a copy of the feeds.
            request.set_tensor(port, ov.Tensor(feeds[entry.name], shared_memory=True))
        # infer() copies each output into a numpy array, as tfreeze.Model.run returns them.
        return request.infer

    def outputs(self) -> dict[str, np.ndarray]:
        results = self.step()
        return {
            e.name: results[name]
            for e, name in zip(self.signature.outputs, self._outputs, strict=True)
        }

    def _settings(self) -> str:
        return (
            f"INFERENCE_PRECISION_HINT=f32, INFERENCE_NUM_THREADS={self._threads_used}, "
            "PERFORMANCE_HINT=LATENCY"
        )


def _port_name(ports: list[Any], tensor: str) -> str:
    """OpenVINO names a port by the graph tensor (``x:0``) or its node (``x``)."""
    for port in ports:
        for name in (tensor, _node(tensor)):
            if name in port.get_names():
                return name
    names = sorted(n for p in ports for n in p.get_names())
    raise PeerCannotRun(f"OpenVINO's model has no port {tensor!r}; it has: {', '.join(names)}")


def _openvino_reason(error: Exception) -> str:
    """OpenVINO's frontend report is many lines deep; its summary lines say
    which ops it could not convert."""
    lines = [line.strip() for line in str(error).splitlines()]
    summary = [line[3:] for line in lines if line.startswith("-- ") and "for:" in line]
    summary += [line[3:] for line in lines if line.startswith("-- No conversion rule")]
    if not summary:
        summary = [line for line in lines if line and not line.startswith(("Exception", "Check"))]
    reason = "; ".join(dict.fromkeys(summary)) or type(error).__name__
    return f"OpenVINO's TensorFlow frontend cannot read the .pb: {reason}"


@functools.lru_cache(maxsize=2)
def _keras_model(source: str) -> Any:
    from tfreeze.freezer.keras_io import load_keras_model

    return load_keras_model(source)


class KerasPeer(Peer):
    """``model(x, training=False)`` on the source model, eager. Keras has no
    Shape layer: its empty model returns each input through an Identity layer,
    so the loop figure is Keras's call machinery with nothing computed."""

    name = "keras"
    empty_model = "the same inputs, each through an Identity layer"

    def _load(self, path: str, feeds: dict, source: Any) -> Callable[[], Any]:
        from tfreeze.freezer.keras_io import KerasIO

        model = (
            _keras_model(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else source
        )
        self._io = KerasIO.of(model if model is not None else _missing_source())
        self._flat = [feeds[e.name] for e in self.signature.inputs]
        return functools.partial(self._io.call, self._flat)

    def _load_empty(self, feeds: dict) -> Callable[[], Any]:
        import keras

        from tfreeze.freezer.keras_io import KerasIO

        inputs = [
            keras.Input(batch_shape=t.shape, dtype=t.dtype, name=name)
            for name, t in zip(self._io.input_names, self._io.input_tensors, strict=True)
        ]
        returned = [keras.layers.Identity()(x) for x in inputs]
        if self._io.input_keys is not None:
            model = keras.Model(dict(zip(self._io.input_keys, inputs, strict=True)), returned)
        else:
            model = keras.Model(inputs if len(inputs) > 1 else inputs[0], returned)
        return functools.partial(KerasIO.of(model).call, self._flat)

    def describe(self) -> dict[str, Any]:
        compute = self._io.model.dtype_policy.compute_dtype  # a mixed-precision model says so
        return {**super().describe(), "precision": "fp32" if compute == "float32" else compute}

    def _settings(self) -> str:
        count = self.threads or 0
        return f"TensorFlow's global intra/inter-op pools={count}/{count}"


def _missing_source() -> Any:
    raise PeerCannotRun("comparing with keras needs the source model (--source MODEL.keras)")


PEERS: dict[str, type[Peer]] = {
    peer.name: peer for peer in (PythonPeer, OnnxRuntimePeer, OpenVinoPeer, KerasPeer)
}

# What each peer imports, and the pip package that brings it.
MODULES: dict[str, tuple[str, ...]] = {
    "onnxruntime": ("tf2onnx", "onnxruntime"),
    "openvino": ("openvino",),
}
