"""Keras 3 models the tests freeze: built here, never downloaded."""

from __future__ import annotations

import keras

from tfreeze.examples.digits import build_digits_cnn


def mlp() -> keras.Model:
    inputs = keras.Input((12,), name="features")
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = keras.layers.Dense(16, activation="tanh")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs, name="mlp")


def cnn() -> keras.Model:
    """Conv + BatchNormalization + Dropout, with non-trivial BN statistics."""
    inputs = keras.Input((16, 16, 3), name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(16, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    outputs = keras.layers.Dense(5, name="logits")(x)
    model = keras.Model(inputs, outputs, name="cnn")
    bn = model.layers[2]
    rng = keras.random.SeedGenerator(1)
    bn.moving_mean.assign(keras.random.normal((8,), seed=rng) * 0.1)
    bn.moving_variance.assign(keras.random.uniform((8,), 0.5, 2.0, seed=rng))
    return model


def two_in_two_out() -> keras.Model:
    """Dict inputs and dict outputs, keys deliberately not in sorted order."""
    tokens = keras.Input((6,), name="tokens")
    extra = keras.Input((4,), name="extra")
    joined = keras.layers.Concatenate()([tokens, extra])
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(joined)
    outputs = {
        "zeta": keras.layers.Dense(2, name="zeta_head")(hidden),
        "alpha": keras.layers.Dense(1, activation="sigmoid", name="alpha_head")(hidden),
    }
    return keras.Model({"tokens": tokens, "extra": extra}, outputs, name="two_in_two_out")


def lstm() -> keras.Model:
    inputs = keras.Input((7, 5), name="sequence")
    x = keras.layers.LSTM(12, return_sequences=True)(inputs)
    x = keras.layers.LSTM(6)(x)
    outputs = keras.layers.Dense(2, name="state")(x)
    return keras.Model(inputs, outputs, name="lstm")


def identity() -> keras.Model:
    """Output = input: the frozen graph's output can alias the fed buffer."""
    inputs = keras.Input((4,), name="value")
    outputs = keras.layers.Identity(name="same")(inputs)
    return keras.Model(inputs, outputs, name="identity")


def text() -> keras.Model:
    """String input through TextVectorization (a vocabulary lookup table)."""
    inputs = keras.Input((1,), dtype="string", name="text")
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=5)
    vectorize.adapt(["the cat sat", "on the mat", "a dog", "tfreeze graph the cat"])
    x = keras.layers.Embedding(21, 4)(vectorize(inputs))
    outputs = keras.layers.GlobalAveragePooling1D(name="pooled")(x)
    return keras.Model(inputs, outputs, name="text")


def lookups() -> keras.Model:
    """StringLookup, IntegerLookup and Hashing side by side: three tables' worth."""
    words = keras.Input((3,), dtype="string", name="words")
    codes = keras.Input((2,), dtype="int64", name="codes")
    word_ids = keras.layers.StringLookup(vocabulary=["the", "cat", "sat", "mat"])(words)
    code_ids = keras.layers.IntegerLookup(vocabulary=[3, 5, 7])(codes)
    hashed = keras.layers.Hashing(num_bins=8)(words)
    joined = keras.layers.Concatenate()([word_ids, code_ids, hashed])
    x = keras.layers.Embedding(16, 3)(joined)
    outputs = keras.layers.Flatten(name="features")(x)
    return keras.Model({"words": words, "codes": codes}, outputs, name="lookups")


BUILDERS = {
    "mlp": mlp,
    "cnn": cnn,
    "two_in_two_out": two_in_two_out,
    "lstm": lstm,
    "text": text,
}


def digits() -> keras.Model:
    """The demo's digits CNN (untrained): the model docs examples run on."""
    return build_digits_cnn()
