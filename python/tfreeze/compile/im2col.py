"""Conv2D as a matrix product, rewritten in the frozen graph before tfcompile
sees it (``--conv-as-matmul``).

XLA's CPU backend hands a convolution to the runtime's Eigen kernel
(``convolution_lib_f32_2d.cc``), which gathers image patches element by
element; on small images that gathering is most of the time. Written as
im2col instead (an explicit Pad for SAME, one strided slice per filter tap,
concatenated on the channel axis, one MatMul with the filter reshaped to
[KH*KW*C, OC]), XLA compiles the gathering to plain copy loops and emits the
product itself; with one input channel the taps times their filter rows are
summed, all in one fused loop. Not ExtractImagePatches: tf2xla lowers that
to a convolution again. docs/compile.md has the measurements behind ``wins``.

    rewrite = conv_as_matmul(graph_def, {"image": (32, 8, 8, 1)}, "auto")
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tfreeze.errors import CompileError

__all__ = ["MODES", "ConvShape", "Rewrite", "conv_as_matmul", "conv_shapes", "wins"]

MODES = ("auto", "on", "off")


@dataclass(frozen=True)
class ConvShape:
    """A Conv2D the rewrite can take: NHWC, dilation 1, SAME or VALID."""

    name: str
    batch: int
    height: int
    width: int
    channels: int
    kernel: tuple[int, int]
    out_channels: int
    strides: tuple[int, int]
    same: bool

    @property
    def depth(self) -> int:
        """The rows of the filter as a matrix: KH*KW*C."""
        return self.kernel[0] * self.kernel[1] * self.channels

    @property
    def product(self) -> int:
        """m*k*n of the matrix product it becomes."""
        out_h, out_w = self.output
        return self.batch * out_h * out_w * self.depth * self.out_channels

    @property
    def output(self) -> tuple[int, int]:
        if self.same:
            return (-(-self.height // self.strides[0]), -(-self.width // self.strides[1]))
        return (
            (self.height - self.kernel[0]) // self.strides[0] + 1,
            (self.width - self.kernel[1]) // self.strides[1] + 1,
        )

    def padding(self) -> list[tuple[int, int]]:
        """(before, after) for height and width, as TensorFlow pads for SAME."""
        pads = []
        for size, out, k, s in zip(
            (self.height, self.width), self.output, self.kernel, self.strides, strict=True
        ):
            total = max((out - 1) * s + k - size, 0) if self.same else 0
            pads.append((total // 2, total - total // 2))
        return pads


def wins(conv: ConvShape) -> bool:
    """The measured rule for ``auto`` (docs/compile.md, "Convolutions as matrix
    products"): one input channel (up to 36x faster, 8x8 to 112x112 images),
    or filters of depth KH*KW*C up to 144 (3x3x16), where Eigen's convolution
    spends its time gathering patches. Deeper filters (3x3x32 and up) ran as
    fast or faster in Eigen at batch 1 and up to 2x faster at batch 32."""
    return conv.channels == 1 or conv.depth <= _DEPTH_LIMIT


_DEPTH_LIMIT = 144
# The largest product m*k*n measured faster as XLA's own tiled loops than
# through the runtime's Eigen matmul: the small CNN's 3x3x16 convolution at
# batch 32 (512 x 144 x 32).
_OWN_PRODUCT_LIMIT = 512 * 144 * 32
_OWN_PRODUCTS_FLAG = "--xla_backend_extra_options=xla_force_enable_experimental_llvm_ir_gemm"


@dataclass(frozen=True)
class Rewrite:
    """A graph after ``conv_as_matmul``: the nodes rewritten, and tfcompile's
    flags for it."""

    graph_def: Any
    rewritten: list[str]
    xla_flags: list[str]


def conv_as_matmul(graph_def: Any, feeds: Mapping[str, tuple[int, ...]], mode: str) -> Rewrite:
    """``graph_def`` with its Conv2D nodes rewritten (all the ones it can take
    for ``on``, those ``wins`` picks for ``auto``, none for ``off``).
    ``feeds``: fed node -> static shape, at the largest batch compiled."""
    if mode not in MODES:
        raise CompileError(f"--conv-as-matmul {mode!r}: choose one of {', '.join(MODES)}")
    if mode == "off" or not any(node.op in ("Conv2D", "MaxPool") for node in graph_def.node):
        return Rewrite(graph_def, [], [])
    convs, pools, products = _inspect(graph_def, feeds)
    chosen = [c for c in convs if mode == "on" or wins(c)]
    # Max-pools only with "on": as slices they sped up the digits CNN (2x2
    # pool before a SAME conv: 3.5 -> 3.1 us at batch 1, 112 -> 94 us at 32)
    # but slowed the tests' small CNN (before a VALID conv: 8.0 -> 11.2 us),
    # where XLA fused the pool into each of the next conv's 9 slices.
    windows = pools if mode == "on" else []
    if not chosen and not windows:
        return Rewrite(graph_def, [], [])
    out = copy.deepcopy(graph_def)
    by_name = {node.name: node for node in out.node}
    for conv in chosen:
        _rewrite(out, by_name[conv.name], conv)
    for pool in windows:
        _rewrite_pool(out, by_name[pool.name], pool)
    added = [conv.product for conv in chosen if conv.channels != 1]
    names = [shape.name for shape in (*chosen, *windows)]
    return Rewrite(out, names, _xla_flags(added, products))


def _xla_flags(added: list[int], products: list[float]) -> list[str]:
    """Every matrix product as XLA's own tiled loops, when the rewrite added
    products and all of the model's are small. Without the flag XLA calls the
    runtime's Eigen matmul for those with an inner dimension over 128 or both
    outer ones over 32 (a 3x3x16 filter's): slower at these sizes, and one
    more runtime file (``dot_lib_f32.cc``, 48 s) to build. The flag holds for
    the whole model, so a large product elsewhere keeps Eigen for all."""
    if added and max(added + products) <= _OWN_PRODUCT_LIMIT:
        return [_OWN_PRODUCTS_FLAG]
    return []


def conv_shapes(graph_def: Any, feeds: Mapping[str, tuple[int, ...]]) -> list[ConvShape]:
    """The Conv2D nodes the rewrite can take, with their static shapes (from
    TensorFlow's shape inference with the fed shapes set)."""
    return _inspect(graph_def, feeds)[0]


def _inspect(
    graph_def: Any, feeds: Mapping[str, tuple[int, ...]]
) -> tuple[list[ConvShape], list[ConvShape], list[float]]:
    """The convolutions and max-pools the rewrite can take (a pool as a
    ConvShape: its window as the kernel, no padding), and m*k*n of each
    matrix product already in the graph (infinite where not known)."""
    import tensorflow as tf

    graph = tf.Graph()
    try:
        with graph.as_default():
            tf.graph_util.import_graph_def(_with_feed_shapes(graph_def, feeds), name="")
    except (ValueError, TypeError, tf.errors.OpError):
        # No shapes, no rewrite: tfcompile then reports what it makes of the graph.
        return [], [], []
    convs, pools, products = [], [], []
    for node in graph_def.node:
        if node.op == "Conv2D":
            op = graph.get_operation_by_name(node.name)
            conv = _conv_shape(node, op.inputs[0].shape, op.inputs[1].shape)
            if conv is not None:
                convs.append(conv)
        elif node.op == "MaxPool":
            pool = _pool_shape(node, graph.get_operation_by_name(node.name).inputs[0].shape)
            if pool is not None:
                pools.append(pool)
        elif node.op == "MatMul":
            products.append(_product(graph.get_operation_by_name(node.name)))
        elif node.op in ("BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum"):
            products.append(float("inf"))
    return convs, pools, products


def _product(op: Any) -> float:
    a, b = (tensor.shape.as_list() for tensor in op.inputs[:2])
    if None in a or None in b:
        return float("inf")
    m, k = reversed(a) if op.get_attr("transpose_a") else a
    n = b[0] if op.get_attr("transpose_b") else b[1]
    return float(m * k * n)


def _with_feed_shapes(graph_def: Any, feeds: Mapping[str, tuple[int, ...]]) -> Any:
    shaped = copy.deepcopy(graph_def)
    for node in shaped.node:
        if node.name in feeds and node.op == "Placeholder":
            shape = node.attr["shape"].shape
            shape.Clear()
            for size in feeds[node.name]:
                shape.dim.add(size=size)
    return shaped


def _conv_shape(node: Any, image: Any, kernel: Any) -> ConvShape | None:
    attr = node.attr
    fmt = attr["data_format"].s.decode() if "data_format" in attr else "NHWC"
    strides = list(attr["strides"].list.i) or [1, 1, 1, 1]
    dilations = list(attr["dilations"].list.i) or [1, 1, 1, 1]
    padding = attr["padding"].s.decode()
    if (
        fmt != "NHWC"
        or padding not in ("SAME", "VALID")
        or any(d != 1 for d in dilations)
        or strides[0] != 1
        or strides[3] != 1
        or attr["T"].type != 1  # DT_FLOAT
        or image.rank != 4
        or kernel.rank != 4
        or None in image.as_list()[1:]
        or None in kernel.as_list()
    ):
        return None
    batch, height, width, channels = image.as_list()
    kh, kw, _, out_channels = kernel.as_list()
    conv = ConvShape(
        node.name,
        batch or 1,
        height,
        width,
        channels,
        (kh, kw),
        out_channels,
        (strides[1], strides[2]),
        padding == "SAME",
    )
    return conv if min(conv.output) > 0 else None


def _pool_shape(node: Any, image: Any) -> ConvShape | None:
    """A MaxPool the rewrite can take: NHWC, float32, a static image, VALID
    or SAME that pads nothing (then both give the same windows)."""
    attr = node.attr
    fmt = attr["data_format"].s.decode() if "data_format" in attr else "NHWC"
    ksize, strides = list(attr["ksize"].list.i), list(attr["strides"].list.i)
    if (
        fmt != "NHWC"
        or attr["T"].type != 1
        or len(ksize) != 4
        or len(strides) != 4
        or ksize[0] != 1
        or ksize[3] != 1
        or strides[0] != 1
        or strides[3] != 1
        or image.rank != 4
        or None in image.as_list()[1:]
    ):
        return None
    batch, height, width, channels = image.as_list()
    window = (ksize[1], ksize[2])
    pool = ConvShape(
        node.name,
        batch or 1,
        height,
        width,
        channels,
        window,
        channels,
        (strides[1], strides[2]),
        False,
    )
    if attr["padding"].s.decode() == "SAME":
        if any(p for pair in dataclasses.replace(pool, same=True).padding() for p in pair):
            return None
    elif attr["padding"].s.decode() != "VALID":
        return None
    return pool if min(pool.output) > 0 else None


def _rewrite_pool(graph_def: Any, node: Any, pool: ConvShape) -> None:
    """A max-pool as the maximum of its window's strided slices: elementwise,
    so XLA fuses it into one loop where reduce-window is a loop of its own."""
    image = node.input[0]
    controls = [source for source in node.input if source.startswith("^")]
    add = _Adder(graph_def, node.name + "/window/", node.device)
    level = _taps(add, image, pool)
    while len(level) > 2:
        pairs = [level[i : i + 2] for i in range(0, len(level), 2)]
        level = [
            add.op("Maximum", f"max_{len(level)}_{i}", pair, T=_dtype(1))
            if len(pair) == 2
            else pair[0]
            for i, pair in enumerate(pairs)
        ]
    name, device = node.name, node.device
    node.Clear()
    node.name, node.device = name, device
    node.op = "Maximum" if len(level) == 2 else "Identity"
    node.input.extend([*level, *controls])
    node.attr["T"].type = 1


def _rewrite(graph_def: Any, node: Any, conv: ConvShape) -> None:
    """Replaces ``node`` by its im2col form (or, with one input channel, a sum
    of taps); the new nodes go under ``NAME/im2col/`` and the last one takes
    the node's name, so its consumers are untouched."""
    image, kernel = node.input[0], node.input[1]
    controls = [source for source in node.input if source.startswith("^")]
    add = _Adder(graph_def, node.name + "/im2col/", node.device)
    pads = conv.padding()
    if any(p for pair in pads for p in pair):
        paddings = add.const("paddings", [[0, 0], *pads, [0, 0]])
        image = add.op("Pad", "pad", [image, paddings], T=_dtype(1), Tpaddings=_dtype(3))
    taps = _taps(add, image, conv)
    depth = conv.depth
    weights = add.reshape("weights", kernel, [depth, conv.out_channels])
    name, device = node.name, node.device
    node.Clear()
    node.name, node.device = name, device
    if conv.channels == 1 and len(taps) > 1:
        # One input channel: each tap times its filter row, summed. All of it
        # is elementwise, so XLA fuses it into one loop (with what follows,
        # such as a BatchNorm's scale), where a concat of 1-channel slices
        # feeding a product with a short inner dimension costs more.
        terms = [
            add.op("Mul", f"term_{r}", [tap, _row(add, weights, r)], T=_dtype(1))
            for r, tap in enumerate(taps)
        ]
        node.op = "AddN"
        node.input.extend([*terms, *controls])
        node.attr["N"].i = len(terms)
    else:
        patches = (
            taps[0]
            if len(taps) == 1
            else add.op(
                "ConcatV2",
                "patches",
                [*taps, add.const("axis", 3)],
                T=_dtype(1),
                Tidx=_dtype(3),
                N=_attr_int(len(taps)),
            )
        )
        rows = add.reshape("rows", patches, [-1, depth])
        product = add.op(
            "MatMul",
            "matmul",
            [rows, weights],
            T=_dtype(1),
            transpose_a=_attr_bool(False),
            transpose_b=_attr_bool(False),
        )
        out_h, out_w = conv.output
        node.op = "Reshape"
        node.input.extend(
            [product, add.const("shape", [-1, out_h, out_w, conv.out_channels]), *controls]
        )
        node.attr["Tshape"].CopyFrom(_dtype(3))
    node.attr["T"].type = 1  # DT_FLOAT


def _row(add: _Adder, weights: str, row: int) -> str:
    """Row ``row`` of a [rows, OC] tensor, as an [OC] vector."""
    return add.op(
        "StridedSlice",
        f"row_{row}",
        [
            weights,
            add.const(f"row_{row}_begin", [row, 0]),
            add.const(f"row_{row}_end", [row + 1, 0]),
            add.const(f"row_{row}_strides", [1, 1]),
        ],
        T=_dtype(1),
        Index=_dtype(3),
        begin_mask=_attr_int(0b10),
        end_mask=_attr_int(0b10),
        ellipsis_mask=_attr_int(0),
        new_axis_mask=_attr_int(0),
        shrink_axis_mask=_attr_int(0b01),
    )


def _taps(add: _Adder, image: str, conv: ConvShape) -> list[str]:
    """One [N, OH, OW, C] slice of the (padded) image per filter tap, row-major
    over the filter: the order of the filter's [KH*KW*C, OC] reshape."""
    out_h, out_w = conv.output
    (sh, sw), (kh, kw) = conv.strides, conv.kernel
    padded_h = conv.height + sum(conv.padding()[0])
    padded_w = conv.width + sum(conv.padding()[1])
    if (kh, kw, sh, sw) == (1, 1, 1, 1) or (
        (kh, kw) == (1, 1) and (padded_h, padded_w) == (out_h, out_w)
    ):
        return [image]
    taps = []
    for i in range(kh):
        for j in range(kw):
            begin = add.const(f"begin_{i}_{j}", [0, i, j, 0])
            end = add.const(
                f"end_{i}_{j}", [0, i + (out_h - 1) * sh + 1, j + (out_w - 1) * sw + 1, 0]
            )
            strides = add.const(f"strides_{i}_{j}", [1, sh, sw, 1])
            taps.append(
                add.op(
                    "StridedSlice",
                    f"tap_{i}_{j}",
                    [image, begin, end, strides],
                    T=_dtype(1),
                    Index=_dtype(3),
                    begin_mask=_attr_int(0b1001),  # batch and channels: whole
                    end_mask=_attr_int(0b1001),
                    ellipsis_mask=_attr_int(0),
                    new_axis_mask=_attr_int(0),
                    shrink_axis_mask=_attr_int(0),
                )
            )
    return taps


class _Adder:
    """Appends nodes named ``scope + name`` to a GraphDef."""

    def __init__(self, graph_def: Any, scope: str, device: str) -> None:
        self.graph_def, self.scope, self.device = graph_def, scope, device

    def op(self, op: str, name: str, inputs: list[str], **attrs: Any) -> str:
        node = self.graph_def.node.add(name=self.scope + name, op=op, device=self.device)
        node.input.extend(inputs)
        for key, value in attrs.items():
            node.attr[key].CopyFrom(value)
        return node.name

    def const(self, name: str, value: Any) -> str:
        import numpy as np
        from tensorflow.core.framework import attr_value_pb2
        from tensorflow.python.framework import tensor_util

        tensor = tensor_util.make_tensor_proto(np.asarray(value, dtype=np.int32))
        return self.op(
            "Const", name, [], dtype=_dtype(3), value=attr_value_pb2.AttrValue(tensor=tensor)
        )

    def reshape(self, name: str, tensor: str, shape: list[int]) -> str:

        target = self.const(name + "_shape", shape)
        return self.op(
            "Reshape",
            name,
            [tensor, target],
            T=_dtype(1),
            Tshape=_dtype(3),
        )


def _attr_int(value: int) -> Any:
    from tensorflow.core.framework import attr_value_pb2

    return attr_value_pb2.AttrValue(i=value)


def _attr_bool(value: bool) -> Any:
    from tensorflow.core.framework import attr_value_pb2

    return attr_value_pb2.AttrValue(b=value)


def _dtype(code: int) -> Any:
    from tensorflow.core.framework import attr_value_pb2

    return attr_value_pb2.AttrValue(type=code)
