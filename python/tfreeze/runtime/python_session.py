"""Python TensorFlow's own run of a tfreeze .pb: the reference that the C++
runtime must match bit for bit. Imports TensorFlow."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from tfreeze.runtime.safety import check_graph_def
from tfreeze.signature import Signature

__all__ = ["PythonSession", "session_config"]


def session_config(
    intra_op_threads: int | None, inter_op_threads: int | None, config_proto: bytes | None = None
) -> Any:
    """``config_proto`` (serialized, e.g. from ``_core.serialize_config``) wins:
    it is how a Python session is configured exactly as a C++ one."""
    import tensorflow as tf

    if config_proto is not None:
        return tf.compat.v1.ConfigProto.FromString(config_proto)
    return tf.compat.v1.ConfigProto(
        intra_op_parallelism_threads=intra_op_threads or 0,
        inter_op_parallelism_threads=inter_op_threads or 0,
    )


class PythonSession:
    """A ``tf.compat.v1.Session`` over a frozen .pb, fed and fetched by signature names.

    Refuses what tfreeze.Model refuses (unsafe ops unless allowed, graphs
    crafted to abort TensorFlow), with the same checks, before TensorFlow
    imports anything."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        allow_unsafe_ops: bool | Sequence[str] = False,
        config_proto: bytes | None = None,
    ) -> None:
        with open(path, "rb") as file:
            data = file.read()
        check_graph_def(data, allow_unsafe_ops, repr(os.fspath(path)))
        self._load(data, session_config(intra_op_threads, inter_op_threads, config_proto))

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        intra_op_threads: int | None = None,
        inter_op_threads: int | None = None,
        allow_unsafe_ops: bool | Sequence[str] = False,
        config_proto: bytes | None = None,
    ) -> PythonSession:
        check_graph_def(data, allow_unsafe_ops, "the in-memory graph")
        session = cls.__new__(cls)
        session._load(data, session_config(intra_op_threads, inter_op_threads, config_proto))
        return session

    def _load(self, data: bytes, config: Any) -> None:
        import tensorflow as tf

        graph_def = tf.compat.v1.GraphDef()
        graph_def.ParseFromString(data)
        self.signature = Signature.from_graph_def(graph_def)
        self.graph = tf.Graph()
        with self.graph.as_default():
            tf.import_graph_def(graph_def, name="")
        self.session = tf.compat.v1.Session(graph=self.graph, config=config)
        if self.signature.init:  # fill tables once, as the C++ loader does
            self.session.run([self.graph.get_operation_by_name(n) for n in self.signature.init])
        self._inputs = {
            e.name: self.graph.get_tensor_by_name(e.tensor) for e in self.signature.inputs
        }
        self._outputs = {
            e.name: self.graph.get_tensor_by_name(e.tensor) for e in self.signature.outputs
        }

    def run(
        self, feeds: dict[str, np.ndarray], fetches: list[str] | None = None
    ) -> dict[str, np.ndarray]:
        names = fetches if fetches is not None else list(self._outputs)
        feed_dict = {self._inputs[name]: value for name, value in feeds.items()}
        fetched = [self._outputs[name] for name in names]
        # Kernels the single-threaded executor runs in this thread flush denormals
        # as TensorFlow's pool threads do, and as tfreeze.Model runs (docs/parity.md).
        from tfreeze._native import _core

        values = _core.call_flushing_denormals(lambda: self.session.run(fetched, feed_dict))
        return dict(zip(names, values, strict=True))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> PythonSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
