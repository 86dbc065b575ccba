"""The model zoo: at least one model per Keras layer family, keras.applications
architectures with weights=None, and integer, bool and string inputs. Built
here (seeded), never downloaded. Each entry: name -> (builder, rtol, atol)."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

L = keras.layers


def _model(inputs, outputs, name: str) -> keras.Model:
    return keras.Model(inputs, outputs, name=name)


def dense() -> keras.Model:
    x = keras.Input((10,), name="x")
    return _model(x, L.Dense(4, name="y")(L.Dense(16, activation="relu")(x)), "dense")


def conv1d() -> keras.Model:
    x = keras.Input((20, 3), name="signal")
    h = L.Conv1D(8, 3, activation="relu")(x)
    h = L.MaxPooling1D()(h)
    h = L.AveragePooling1D(2)(L.Conv1D(8, 3, padding="same")(h))
    return _model(x, L.Dense(2, name="y")(L.GlobalMaxPooling1D()(h)), "conv1d")


def conv2d() -> keras.Model:
    x = keras.Input((12, 12, 3), name="image")
    h = L.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)
    h = L.AveragePooling2D(2)(L.Conv2D(8, 3, dilation_rate=2, padding="same")(h))
    return _model(x, L.Dense(3, name="y")(L.GlobalAveragePooling2D()(h)), "conv2d")


def conv3d() -> keras.Model:
    x = keras.Input((6, 8, 8, 2), name="volume")
    h = L.MaxPooling3D(2)(L.Conv3D(4, 3, padding="same", activation="relu")(x))
    return _model(x, L.Dense(2, name="y")(L.GlobalAveragePooling3D()(h)), "conv3d")


def depthwise_conv2d() -> keras.Model:
    x = keras.Input((10, 10, 4), name="image")
    h = L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu")(x)
    return _model(x, L.Flatten(name="y")(h), "depthwise_conv2d")


def separable_conv2d() -> keras.Model:
    x = keras.Input((10, 10, 4), name="image")
    return _model(x, L.SeparableConv2D(6, 3, padding="same", name="y")(x), "separable_conv2d")


def conv2d_transpose() -> keras.Model:
    x = keras.Input((5, 5, 4), name="code")
    return _model(
        x, L.Conv2DTranspose(3, 3, strides=2, padding="same", name="y")(x), "conv2d_transpose"
    )


def pooling() -> keras.Model:
    x = keras.Input((8, 8, 3), name="image")
    maximum = L.GlobalMaxPooling2D()(L.MaxPooling2D(pool_size=3, strides=1)(x))
    average = L.GlobalAveragePooling2D()(L.AveragePooling2D(2, padding="same")(x))
    return _model(x, L.Concatenate(name="y")([maximum, average]), "pooling")


def batch_normalization() -> keras.Model:
    x = keras.Input((6,), name="x")
    bn = L.BatchNormalization(name="y")
    model = _model(x, bn(x), "batch_normalization")
    bn.moving_mean.assign(np.linspace(-1, 1, 6).astype("float32"))
    bn.moving_variance.assign(np.linspace(0.5, 2, 6).astype("float32"))
    return model


def layer_normalization() -> keras.Model:
    x = keras.Input((5, 6), name="x")
    return _model(x, L.LayerNormalization(name="y")(L.Dense(6)(x)), "layer_normalization")


def group_normalization() -> keras.Model:
    x = keras.Input((6, 6, 8), name="x")
    return _model(x, L.GroupNormalization(groups=4, name="y")(x), "group_normalization")


def dropout() -> keras.Model:
    x = keras.Input((16,), name="x")
    h = L.SpatialDropout1D(0.3)(L.Reshape((4, 4))(L.Dropout(0.5)(x)))
    return _model(x, L.Dense(3, name="y")(L.Flatten()(L.AlphaDropout(0.2)(h))), "dropout")


def embedding() -> keras.Model:
    ids = keras.Input((7,), dtype="int32", name="ids")
    h = L.GlobalAveragePooling1D()(L.Embedding(50, 8)(ids))
    return _model(ids, L.Dense(2, name="y")(h), "embedding")


def lstm() -> keras.Model:
    x = keras.Input((6, 4), name="sequence")
    return _model(x, L.LSTM(5, name="y")(L.LSTM(8, return_sequences=True)(x)), "lstm")


def gru() -> keras.Model:
    x = keras.Input((6, 4), name="sequence")
    return _model(x, L.GRU(5, name="y")(x), "gru")


def simple_rnn() -> keras.Model:
    x = keras.Input((6, 4), name="sequence")
    return _model(x, L.SimpleRNN(5, return_sequences=True, name="y")(x), "simple_rnn")


def bidirectional() -> keras.Model:
    x = keras.Input((6, 4), name="sequence")
    return _model(x, L.Bidirectional(L.LSTM(4), name="y")(x), "bidirectional")


def multi_head_attention() -> keras.Model:
    query = keras.Input((5, 8), name="query")
    value = keras.Input((7, 8), name="value")
    out = L.MultiHeadAttention(num_heads=2, key_dim=4, name="y")(query, value)
    return _model([query, value], out, "multi_head_attention")


def attention() -> keras.Model:
    query = keras.Input((5, 8), name="query")
    value = keras.Input((7, 8), name="value")
    return _model([query, value], L.Attention(name="y")([query, value]), "attention")


def activations() -> keras.Model:
    x = keras.Input((8,), name="x")
    names = [
        "relu",
        "gelu",
        "swish",
        "softmax",
        "elu",
        "selu",
        "tanh",
        "sigmoid",
        "softplus",
        "hard_sigmoid",
        "leaky_relu",
        "relu6",
        "mish",
        "log_softmax",
    ]
    outputs = [L.Activation(name, name=f"act_{name}")(x) for name in names]
    outputs += [L.PReLU(name="prelu")(x), L.ReLU(max_value=2.0, name="relu_capped")(x)]
    return _model(x, outputs, "activations")


def reshaping() -> keras.Model:
    x = keras.Input((4, 6), name="x")
    h = L.Permute((2, 1))(x)
    h = L.Reshape((3, 8))(h)
    h = L.RepeatVector(2)(L.Flatten()(h))
    return _model(x, L.Reshape((2, 4, 6), name="y")(h), "reshaping")


def cropping_padding_upsampling() -> keras.Model:
    x = keras.Input((8, 8, 2), name="image")
    h = L.ZeroPadding2D(((1, 2), (0, 1)))(x)
    h = L.Cropping2D(((2, 1), (1, 0)))(h)
    h = L.UpSampling2D(size=2, interpolation="bilinear")(h)
    seq = L.UpSampling1D(2)(L.Cropping1D(1)(L.ZeroPadding1D(2)(L.Reshape((16, 32))(h))))
    return _model(
        x,
        [L.Identity(name="image_out")(h), L.Identity(name="seq_out")(seq)],
        "cropping_padding_upsampling",
    )


def merging() -> keras.Model:
    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    outputs = {
        "sum": L.Add()([a, b]),
        "product": L.Multiply()([a, b]),
        "joined": L.Concatenate()([a, b]),
        "difference": L.Subtract()([a, b]),
        "mean": L.Average()([a, b]),
        "largest": L.Maximum()([a, b]),
        "dot": L.Dot(axes=1)([a, b]),
    }
    return _model({"a": a, "b": b}, outputs, "merging")


@keras.saving.register_keras_serializable(package="zoo")
class ScaledResidual(L.Layer):
    """A custom layer with its own weight and build(), no Lambda."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs + keras.ops.tanh(inputs) * self.scale


def custom_layer() -> keras.Model:
    x = keras.Input((5,), name="x")
    layer = ScaledResidual(name="y")
    model = _model(x, layer(L.Dense(5)(x)), "custom_layer")
    layer.scale.assign(np.linspace(0.5, 1.5, 5).astype("float32"))
    return model


def time_distributed() -> keras.Model:
    x = keras.Input((4, 6), name="frames")
    return _model(x, L.TimeDistributed(L.Dense(3), name="y")(x), "time_distributed")


def normalization_layer() -> keras.Model:
    x = keras.Input((4,), name="raw")
    norm = L.Normalization(mean=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 4.0, 9.0, 16.0])
    return _model(x, L.Dense(2, name="y")(norm(x)), "normalization_layer")


def int_and_bool_inputs() -> keras.Model:
    counts = keras.Input((3,), dtype="int64", name="counts")
    mask = keras.Input((3,), dtype="bool", name="mask")
    as_float = keras.ops.cast(counts, "float32") * keras.ops.cast(mask, "float32")
    kept = L.Identity(name="kept")(keras.ops.logical_and(mask, keras.ops.greater(counts, 4)))
    return _model([counts, mask], [L.Dense(2, name="score")(as_float), kept], "int_and_bool_inputs")


@keras.saving.register_keras_serializable(package="zoo")
class ByteLength(L.Layer):
    """String input: byte lengths through TensorFlow's string ops."""

    def call(self, text):
        return tf.cast(tf.strings.length(text), "float32")

    def compute_output_shape(self, input_shape):
        return input_shape


def string_input() -> keras.Model:
    text = keras.Input((3,), dtype="string", name="text")
    lengths = ByteLength()(text)
    return _model(text, L.Dense(1, name="y")(lengths), "string_input")


def mixed_precision() -> keras.Model:
    x = keras.Input((8,), name="x")
    h = L.Dense(16, activation="relu", dtype="mixed_float16")(x)
    return _model(x, L.Dense(2, dtype="float32", name="y")(h), "mixed_precision")


def _application(build, shape) -> Callable[[], keras.Model]:
    def make() -> keras.Model:
        return build(weights=None, input_shape=shape, classes=10)

    return make


APPLICATIONS = {
    "mobilenet_v2": _application(keras.applications.MobileNetV2, (64, 64, 3)),
    "resnet50": _application(keras.applications.ResNet50, (64, 64, 3)),
    "efficientnet_b0": _application(keras.applications.EfficientNetB0, (64, 64, 3)),
    "densenet121": _application(keras.applications.DenseNet121, (64, 64, 3)),
    "inception_v3": _application(keras.applications.InceptionV3, (75, 75, 3)),
}

LAYERS = {
    f.__name__: f
    for f in (
        dense,
        conv1d,
        conv2d,
        conv3d,
        depthwise_conv2d,
        separable_conv2d,
        conv2d_transpose,
        pooling,
        batch_normalization,
        layer_normalization,
        group_normalization,
        dropout,
        embedding,
        lstm,
        gru,
        simple_rnn,
        bidirectional,
        multi_head_attention,
        attention,
        activations,
        reshaping,
        cropping_padding_upsampling,
        merging,
        custom_layer,
        time_distributed,
        normalization_layer,
        int_and_bool_inputs,
        string_input,
        mixed_precision,
    )
}

ZOO = {**LAYERS, **APPLICATIONS}
