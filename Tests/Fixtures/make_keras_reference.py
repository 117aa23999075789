#!/usr/bin/env python3
"""Writes the Keras reference fixtures that Tests/DAELayersTests/KerasParityTests.swift checks.

For each configuration below, one small batch through a real tf.keras model: the weights, the
input, every layer's activation, the loss, the gradient of the loss for every weight, and every
weight after one Adam step, as `keras-ref-<name>.safetensors` next to this script. The tensor
names, layouts and metadata are those of the shared reference file (see
Sources/DAEKit/DAEKit.docc/CheckpointFormat.md for the names):

    weights            encoder.conv{i}.kernel|bias, encoder.latent.*, decoder.dense.*,
                       decoder.deconv{i}.*, decoder.output.*   (Keras layouts)
    input.noisy/clean  [B, h, w, c]
    act.<layer>        each named layer's output, after its activation
    loss               [] mean squared error over all elements
    grad.<weight>      d loss / d weight
    adam1.<weight>     the weight after one Keras Adam step (lr 1e-3, b1 0.9, b2 0.999, eps 1e-7)

Run once (TensorFlow and Keras from pip, CPU only):

    python3 -m venv /tmp/kerasvenv
    /tmp/kerasvenv/bin/pip install tensorflow keras safetensors
    /tmp/kerasvenv/bin/python Tests/Fixtures/make_keras_reference.py

The images are synthetic (rectangles drawn from a fixed seed), so no data set is needed.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import tensorflow as tf
import keras
from keras import layers
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))

# name, input shape, layer filters, kernel size, latent size, batch, seed
CONFIGURATIONS = [
    ("small-gray", (16, 16, 1), (8, 16), 3, 8, 2, 99),
    ("rgb-kernel5", (12, 12, 3), (6, 12), 5, 5, 2, 7),
    ("three-layers", (24, 24, 1), (4, 8, 8), 3, 6, 3, 11),
]


def build(input_shape, layer_filters, kernel_size, latent_dim):
    """The tutorial's autoencoder, parameterised, with DAEKit's layer names."""
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for i, filters in enumerate(layer_filters):
        x = layers.Conv2D(filters, kernel_size, strides=2, padding="same", activation="relu",
                          name="encoder.conv%d" % i)(x)
    map_shape = tuple(x.shape[1:])
    x = layers.Flatten()(x)
    x = layers.Dense(latent_dim, name="encoder.latent")(x)
    x = layers.Dense(int(np.prod(map_shape)), name="decoder.dense")(x)
    x = layers.Reshape(map_shape)(x)
    for i, filters in enumerate(reversed(layer_filters)):
        x = layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same", activation="relu",
                                   name="decoder.deconv%d" % i)(x)
    outputs = layers.Conv2DTranspose(input_shape[-1], kernel_size, strides=1, padding="same",
                                     activation="sigmoid", name="decoder.output")(x)
    return keras.Model(inputs, outputs)


def rectangles(count, shape, rng):
    """Clean images: one to three bright rectangles on black, values in [0, 1]."""
    h, w, c = shape
    images = np.zeros((count, h, w, c), dtype=np.float32)
    for n in range(count):
        for _ in range(rng.randint(1, 4)):
            top, left = rng.randint(0, h - 3), rng.randint(0, w - 3)
            bottom, right = rng.randint(top + 2, h + 1), rng.randint(left + 2, w + 1)
            images[n, top:bottom, left:right, :] = rng.randint(128, 256, size=c) / 255.0
    return images


def make(name, input_shape, layer_filters, kernel_size, latent_dim, batch, seed):
    keras.utils.set_random_seed(seed)
    model = build(input_shape, layer_filters, kernel_size, latent_dim)
    rng = np.random.RandomState(seed)
    clean = rectangles(batch, input_shape, rng)
    noise = rng.normal(loc=0.5, scale=0.5, size=clean.shape)
    noisy = np.clip(clean + noise, 0, 1).astype(np.float32)

    tensors = {"input.noisy": noisy, "input.clean": clean}
    weighted = [layer for layer in model.layers if layer.weights]
    for layer in weighted:
        kernel, bias = layer.get_weights()
        tensors[layer.name + ".kernel"] = kernel
        tensors[layer.name + ".bias"] = bias

    probe = keras.Model(model.inputs, [layer.output for layer in weighted])
    for layer, value in zip(weighted, probe(noisy)):
        tensors["act." + layer.name] = np.asarray(value)

    variables = [v for layer in weighted for v in (layer.kernel, layer.bias)]
    names = [layer.name + suffix for layer in weighted for suffix in (".kernel", ".bias")]
    with tf.GradientTape() as tape:
        output = model(noisy, training=True)
        loss = tf.reduce_mean(tf.square(output - clean))
    gradients = tape.gradient(loss, variables)
    tensors["loss"] = np.asarray(loss, dtype=np.float32).reshape(())
    for n, g in zip(names, gradients):
        tensors["grad." + n] = np.asarray(g)

    optimizer = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    optimizer.apply_gradients(zip(gradients, variables))
    for n, v in zip(names, variables):
        tensors["adam1." + n] = np.asarray(v.numpy())

    tensors = {k: np.array(v, dtype=np.float32, order="C") for k, v in tensors.items()}  # keeps the loss 0-d
    metadata = {
        "framework": "keras",
        "version": "tensorflow %s, keras %s" % (tf.__version__, keras.__version__),
        "layout": "NHWC",
        "noise": "gaussian mean 0.5 std 0.5 clip [0,1]",
        "data": "synthetic rectangles, numpy RandomState(%d)" % seed,
        "generator": "Tests/Fixtures/make_keras_reference.py",
        "architecture": json.dumps({"input_shape": list(input_shape), "layer_filters": list(layer_filters),
                                    "kernel_size": kernel_size, "strides": 2, "latent_dim": latent_dim,
                                    "batch": batch}),
    }
    path = os.path.join(HERE, "keras-ref-%s.safetensors" % name)
    save_file(tensors, path, metadata=metadata)
    print("%s: %d tensors, %d bytes, loss %.6f" % (path, len(tensors), os.path.getsize(path), float(loss)))


def main():
    tf.config.threading.set_intra_op_parallelism_threads(1)
    for configuration in CONFIGURATIONS:
        make(*configuration)


if __name__ == "__main__":
    sys.exit(main())
