#!/usr/bin/env python3
"""Checks that models move between Keras and DAEKit with identical 8-bit results.

Both directions, following Sources/DAEKit/DAEKit.docc/CheckpointFormat.md, the recipe users run:

  Keras -> DAEKit  a Keras tutorial model (trained briefly here) is written with Python's
                   safetensors under DAEKit's names, weights only; `dae denoise --model` loads it
                   (inferring the architecture) and must write the same 8-bit PNGs as Keras's
                   own predict on the same inputs.
  DAEKit -> Keras  `dae train` writes a checkpoint; Keras loads its weights with
                   `layer.set_weights` and its predict must give the same 8-bit images as
                   `dae denoise` with that checkpoint.

Run (TensorFlow, Keras, safetensors and Pillow from pip; the `dae` tool built in release):

    swift build -c release --product dae
    python3 -m venv /tmp/kerasvenv && /tmp/kerasvenv/bin/pip install tensorflow keras safetensors pillow
    /tmp/kerasvenv/bin/python Tests/Fixtures/check_keras_roundtrip.py [--dae .build/release/dae]

Exits 1 when any pixel differs. Data: Fashion-MNIST in IDX form (default
/usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist).
"""
import argparse
import gzip
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import keras
from keras import layers
from PIL import Image
from safetensors.numpy import load_file, save_file

# The recipe's mapping, Keras layer name -> DAEKit name (CheckpointFormat.md, "From Keras").
NAMES = {"conv2d": "encoder.conv0", "conv2d_1": "encoder.conv1", "latent_vector": "encoder.latent",
         "dense": "decoder.dense", "conv2d_transpose": "decoder.deconv0",
         "conv2d_transpose_1": "decoder.deconv1", "decoder_output": "decoder.output"}


def read_idx(path):
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    sys.exit("no %s in %s" % (stem, directory))


def tutorial_model():
    """The Keras tutorial's encoder and decoder, its layers named as the recipe expects."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, 3, strides=2, activation="relu", padding="same", name="conv2d")(inputs)
    x = layers.Conv2D(64, 3, strides=2, activation="relu", padding="same", name="conv2d_1")(x)
    x = layers.Flatten()(x)
    latent = layers.Dense(16, name="latent_vector")(x)
    encoder = keras.Model(inputs, latent)
    latent_inputs = keras.Input(shape=(16,))
    x = layers.Dense(7 * 7 * 64, name="dense")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, strides=2, activation="relu", padding="same", name="conv2d_transpose")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, activation="relu", padding="same", name="conv2d_transpose_1")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same", name="decoder_output")(x)
    decoder = keras.Model(latent_inputs, outputs)
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    return encoder, decoder, autoencoder


def to_bytes(images):
    """DAEImageIO's conversion: clamp to [0, 1], then round(x * 255) half away from zero, in float32."""
    x = np.clip(images.astype(np.float32), 0, 1) * np.float32(255)
    return np.floor(x + np.float32(0.5)).astype(np.uint8)


def dae(tool, *arguments):
    result = subprocess.run([tool, *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit("dae %s failed:\n%s%s" % (" ".join(arguments), result.stdout, result.stderr))
    return result


def dae_denoise(tool, model, inputs, directory):
    result = dae(tool, "denoise", "--model", model, *inputs, "--output", directory, "--workers", "1")
    outputs = []
    for path in inputs:
        name = os.path.splitext(os.path.basename(path))[0] + "-denoised.png"
        outputs.append(np.asarray(Image.open(os.path.join(directory, name))))
    return np.stack(outputs)[..., None], result.stderr


def compare(label, ours, keras_bytes):
    differing = int(np.count_nonzero(ours != keras_bytes))
    worst = int(np.max(np.abs(ours.astype(int) - keras_bytes.astype(int))))
    print("%-16s %d images, %d of %d pixels differ (max %d levels)%s"
          % (label, len(ours), differing, ours.size, worst, "" if differing == 0 else "  FAIL"))
    return differing == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dae", default=".build/release/dae")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--images", type=int, default=27)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="keras-roundtrip-")

    train = read_idx(find(args.data, "train-images-idx3-ubyte"))[:3000, ..., None].astype(np.float32) / 255
    test = read_idx(find(args.data, "t10k-images-idx3-ubyte"))[:args.images, ..., None].astype(np.float32) / 255
    rng = np.random.RandomState(5)
    noisy = to_bytes(np.clip(test + rng.normal(0.5, 0.5, size=test.shape), 0, 1))  # 8-bit inputs, as PNG files hold them
    inputs = []
    for i, image in enumerate(noisy):
        inputs.append(os.path.join(work, "noisy-%02d.png" % i))
        Image.fromarray(image[..., 0], mode="L").save(inputs[-1])
    x = noisy.astype(np.float32) / 255

    # Keras -> DAEKit: a briefly trained Keras model, written with the recipe, weights only.
    keras.utils.set_random_seed(3)
    encoder, decoder, autoencoder = tutorial_model()
    autoencoder.compile(loss="mse", optimizer="adam")
    noisy_train = np.clip(train + rng.normal(0.5, 0.5, size=train.shape), 0, 1).astype(np.float32)
    autoencoder.fit(noisy_train, train, epochs=1, batch_size=32, verbose=0)
    tensors = {}
    for layer in encoder.layers + decoder.layers:
        if layer.name in NAMES and layer.weights:
            kernel, bias = layer.get_weights()
            tensors[NAMES[layer.name] + ".kernel"] = kernel.astype(np.float32)
            tensors[NAMES[layer.name] + ".bias"] = bias.astype(np.float32)
    from_keras = os.path.join(work, "from-keras.safetensors")
    save_file(tensors, from_keras)
    ours, note = dae_denoise(args.dae, from_keras, inputs, os.path.join(work, "keras-to-dae"))
    print(note.strip())
    ok = compare("Keras -> DAEKit", ours, to_bytes(autoencoder.predict(x, verbose=0)))

    # DAEKit -> Keras: a checkpoint written by `dae train`, loaded into Keras with set_weights.
    checkpoint = os.path.join(work, "from-dae.safetensors")
    dae(args.dae, "train", "--data", args.data, "--checkpoint", checkpoint, "--epochs", "1", "--limit", "3000",
        "--seed", "4", "--workers", "1")
    weights = load_file(checkpoint)
    encoder, decoder, autoencoder = tutorial_model()
    for layer in encoder.layers + decoder.layers:
        if layer.name in NAMES and layer.weights:
            layer.set_weights([weights[NAMES[layer.name] + ".kernel"], weights[NAMES[layer.name] + ".bias"]])
    ours, _ = dae_denoise(args.dae, checkpoint, inputs, os.path.join(work, "dae-to-keras"))
    ok = compare("DAEKit -> Keras", ours, to_bytes(autoencoder.predict(x, verbose=0))) and ok
    print("work directory:", work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
