"""The signature stored inside every tfreeze .pb.

One Const node, ``tfreeze/signature``, holds a JSON document (sorted keys, so
the bytes are deterministic)::

    {"format": "tfreeze.signature", "version": 1,
     "inputs":  [{"name": "image", "tensor": "image:0", "dtype": "float32",
                  "shape": [-1, 8, 8, 1]},
                 {"name": "threshold", "tensor": "threshold:0", "dtype": "float32",
                  "shape": [], "optional": true}],
     "outputs": [...],
     "producer": {"tfreeze": "0.1.0", "tensorflow": "2.21.0", "source": "keras"},
     "verify": {"cases": 2, "rtol": 1e-05, "atol": 1e-06},
     "init": ["vocab/table_init"]}

``verify`` (optional) says that the file carries test vectors: for case ``c``
the Const nodes ``tfreeze/verify/c/input/i`` and ``tfreeze/verify/c/output/j``
hold the i-th input and the source model's j-th output, in signature order.
``Model.verify()`` (C++ and Python) replays them.

``optional`` (on an input, default false) says that its graph tensor has a
default (a ``PlaceholderWithDefault``): it may be fed, but need not be.

``init`` (optional) names graph operations, such as the ``LookupTableImportV2``
nodes that fill hash tables, that the runtimes run once as targets right after
creating the session, before any run: a frozen graph has no other way to say
that its tables need filling.

Keys that are false or empty are left out, so files that use neither feature
keep the bytes they always had.

``name`` is what the user feeds and fetches by; ``tensor`` the graph tensor
that carries it. Lists are in the model's own order. No edge touches the node,
so TensorFlow ignores it; the C++ loader reads it through the C API
(``cpp/src/signature.cc``, which must accept what this module writes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "SIGNATURE_NODE",
    "SIGNATURE_VERSION",
    "IOEntry",
    "Signature",
    "is_valid_node_name",
    "verify_node",
]


def verify_node(case: int, kind: str, index: int) -> str:
    """Name of the Const node holding a stored test vector (kind: input/output)."""
    return f"tfreeze/verify/{case}/{kind}/{index}"


SIGNATURE_NODE = "tfreeze/signature"
SIGNATURE_VERSION = 1
FORMAT = "tfreeze.signature"

# TensorFlow's rule for node names (tensorflow/core/framework/node_def_util.cc).
_NODE_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


def is_valid_node_name(name: str) -> bool:
    return bool(_NODE_NAME.match(name))


@dataclass(frozen=True)
class IOEntry:
    name: str
    tensor: str
    dtype: str
    shape: tuple[int, ...]  # -1 for open dimensions
    optional: bool = False  # an input with a default in the graph; may be left unfed

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "tensor": self.tensor,
            "dtype": self.dtype,
            "shape": list(self.shape),
        }
        if self.optional:
            data["optional"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IOEntry:
        return cls(
            data["name"],
            data["tensor"],
            data["dtype"],
            tuple(data["shape"]),
            bool(data.get("optional", False)),
        )


@dataclass(frozen=True)
class Signature:
    inputs: tuple[IOEntry, ...]
    outputs: tuple[IOEntry, ...]
    producer: dict[str, str] = field(default_factory=dict)
    verify: dict[str, float] | None = None  # {"cases", "rtol", "atol"} when vectors are stored
    init: tuple[str, ...] = ()  # operations to run once when a session starts

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT,
            "version": SIGNATURE_VERSION,
            "inputs": [entry.to_json() for entry in self.inputs],
            "outputs": [entry.to_json() for entry in self.outputs],
            "producer": self.producer,
        }
        if self.verify is not None:
            document["verify"] = self.verify
        if self.init:
            document["init"] = list(self.init)
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        document = json.loads(data)
        return cls(
            tuple(IOEntry.from_json(e) for e in document["inputs"]),
            tuple(IOEntry.from_json(e) for e in document["outputs"]),
            dict(document.get("producer", {})),
            document.get("verify"),
            tuple(document.get("init", ())),
        )

    @classmethod
    def from_graph_def(cls, graph_def: Any) -> Signature:
        """Reads the signature node of a GraphDef proto (TensorFlow needed)."""
        for node in graph_def.node:
            if node.name == SIGNATURE_NODE:
                return cls.from_bytes(node.attr["value"].tensor.string_val[0])
        raise LookupError(f"the graph has no {SIGNATURE_NODE!r} node; it was not frozen by tfreeze")
