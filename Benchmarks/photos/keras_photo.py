#!/usr/bin/env python3
"""The photo presets' architectures in Keras, for the training-speed comparison.

--preset photo (the default) is DenoisingAutoencoder.Configuration.photo();
--preset builtin is .builtInPhoto(), the built-in denoiser's: the input is the
image plus a noise-level map (one channel holding each patch's noise std),
nine Conv2D(48, 3x3, same, ReLU) and a linear Conv2D(3), He-uniform kernels,
48x48 patches. --preset builtin-deep is .builtInPhotoDeep(), the same with
sixteen Conv2D(48) (scripts/train-builtin-model --deep). Layer names are
DAEKit's (denoiser.conv{i}, denoiser.output), so `load_daekit_weights` reads
a DAEKit safetensors file into the model.

The same network as DenoisingAutoencoder.Configuration.photo(): six
Conv2D(48, 3x3, same, ReLU) and a linear Conv2D(3, 3x3, same) that predicts
the noise (residual learning: the loss is the MSE of that prediction against
noisy - clean, as in DAEKit), Glorot-uniform kernels, Adam (lr 1e-3, Keras's
defaults), batch 32. It trains on random 40x40 patches of the same folder's
images (all but the last two by name, as the demo holds them out), flipped
and rotated, with blind Gaussian noise of std uniform in 0..55/255 per patch,
clipped to [0, 1].

Patches are cut before the clock starts (Keras's input pipeline is not what
is measured); each epoch's time is its fit() time. Prints one JSON line:
{"framework", "patchesPerEpoch", "epochSeconds": [...], "samplesPerSecond"}
(the median epoch).

  python3 Benchmarks/photos/keras_photo.py --images /usr/share/backgrounds/mate/nature --epochs 3 --threads 2
  python3 Benchmarks/photos/keras_photo.py --preset builtin --epochs 3 --patches 1024

The weight check (--compare-dae): the builtin copy with DAEKit's weights
loaded (--weights), against `dae denoise --model` with the same file, on the
center crop (--compare-crop, 128) of the last image of --images by name (a
held-out one) with Gaussian noise of std --compare-sigma/255 (seeded,
clipped, 8 bits), sigma given on both sides. Keras's output is
clip(noisy - prediction, 0, 1) rounded to 8 bits, as dae writes its PNG.
Prints one JSON line: the largest difference in 8-bit levels, the fraction
of samples that differ, and both PSNRs against the clean crop.

  python3 Benchmarks/photos/keras_photo.py --preset builtin \
      --weights Sources/DAEKit/Models/builtin-photo-rgb.safetensors --compare-dae .build/release/dae

Needs tensorflow-cpu (with its Keras 3) and pillow; run-photo-peers.sh
installs them into its venv.
"""
import argparse
import json
import os
import statistics
import sys
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", default="/usr/share/backgrounds/mate/nature")
    p.add_argument("--held-out", type=int, default=2)
    p.add_argument("--patches", type=int, default=4096)
    p.add_argument("--patch-size", type=int, default=40)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", choices=["photo", "builtin", "builtin-deep"], default="photo")
    p.add_argument("--weights", default=None, help="a DAEKit safetensors file to load (builtin preset)")
    p.add_argument("--compare-dae", default=None, metavar="DAE",
                   help="no training: compare the model (with --weights) with this dae binary's denoise on one crop")
    p.add_argument("--compare-crop", type=int, default=128)
    p.add_argument("--compare-sigma", type=float, default=25)
    args = p.parse_args()
    if args.preset.startswith("builtin") and args.patch_size == 40:
        args.patch_size = 48

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    from PIL import Image
    import tensorflow as tf
    import keras
    from keras import layers

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    names = sorted(n for n in os.listdir(args.images) if n.lower().endswith((".png", ".jpg", ".jpeg")))
    images = [np.asarray(Image.open(os.path.join(args.images, n)).convert("RGB")) for n in names[:len(names) - args.held_out]]
    areas = np.array([im.shape[0] * im.shape[1] for im in images], dtype=np.float64)

    def patches(count):
        s = args.patch_size
        out = np.empty((count, s, s, 3), np.float32)
        picks = rng.choice(len(images), size=count, p=areas / areas.sum())
        for k, i in enumerate(picks):
            im = images[i]
            y, x = rng.integers(0, im.shape[0] - s + 1), rng.integers(0, im.shape[1] - s + 1)
            patch = im[y:y + s, x:x + s]
            patch = np.rot90(patch, rng.integers(0, 4))
            if rng.integers(0, 2):
                patch = patch[:, ::-1]
            out[k] = patch / 255.0
        std = rng.uniform(0, 55 / 255, size=(count, 1, 1, 1)).astype(np.float32)
        noisy = np.clip(out + rng.normal(0, 1, out.shape).astype(np.float32) * std, 0, 1)
        if args.preset.startswith("builtin"):  # the noise-level map: one more channel holding the patch's std
            level = np.broadcast_to(std, noisy.shape[:3] + (1,))
            return np.concatenate([noisy, level], axis=-1), noisy - out
        return noisy, noisy - out

    model = build_model(keras, layers, args.preset)
    if args.weights:
        load_daekit_weights(model, args.weights)
    if args.compare_dae:
        if not args.preset.startswith("builtin") or not args.weights:
            p.error("--compare-dae needs --preset builtin or builtin-deep, and --weights")
        print(json.dumps(compare_with_dae(model, args, names)))
        return
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")

    seconds = []
    for epoch in range(args.epochs):
        noisy, target = patches(args.patches)
        start = time.perf_counter()
        history = model.fit(noisy, target, batch_size=args.batch, epochs=1, shuffle=True, verbose=0)
        seconds.append(time.perf_counter() - start)
        print(f"[keras-photo] epoch {epoch + 1}: {seconds[-1]:.1f} s, loss {history.history['loss'][-1]:.5f}", file=sys.stderr)
    median = statistics.median(seconds)
    print(json.dumps({"framework": f"keras {keras.__version__} / tensorflow {tf.__version__}", "threads": args.threads,
                      "patchesPerEpoch": args.patches, "patchSize": args.patch_size, "epochSeconds": seconds,
                      "samplesPerSecond": args.patches / median}))


def build_model(keras, layers, preset):
    """The Keras copy of a DAEKit photo preset, under DAEKit's layer names."""
    if preset.startswith("builtin"):
        inputs = keras.Input(shape=(None, None, 4))  # RGB + the noise-level map
        x = inputs
        for i in range(16 if preset == "builtin-deep" else 9):
            x = layers.Conv2D(48, 3, padding="same", activation="relu", kernel_initializer="he_uniform", name=f"denoiser.conv{i}")(x)
        noise = layers.Conv2D(3, 3, padding="same", kernel_initializer="he_uniform", name="denoiser.output")(x)
        return keras.Model(inputs, noise)
    inputs = keras.Input(shape=(None, None, 3))
    x = inputs
    for i in range(6):
        x = layers.Conv2D(48, 3, padding="same", activation="relu", name=f"conv{i}")(x)
    noise = layers.Conv2D(3, 3, padding="same", name="output")(x)
    return keras.Model(inputs, noise)


def compare_with_dae(model, args, names):
    """The Keras copy with DAEKit's weights against `dae denoise` on the same noisy 8-bit crop, sigma given."""
    import subprocess
    import tempfile
    import numpy as np
    from PIL import Image
    name = names[-1]
    image = np.asarray(Image.open(os.path.join(args.images, name)).convert("RGB"))
    s = min(args.compare_crop, *image.shape[:2])
    top, left = (image.shape[0] - s) // 2, (image.shape[1] - s) // 2
    clean = image[top:top + s, left:left + s]
    rng = np.random.default_rng(args.seed)
    noisy = np.clip(np.rint(clean + rng.normal(0, args.compare_sigma, clean.shape)), 0, 255).astype(np.uint8)
    x = noisy.astype(np.float32) / 255
    level = np.full(x.shape[:2] + (1,), args.compare_sigma / 255, np.float32)
    prediction = model(np.concatenate([x, level], axis=-1)[None], training=False)[0].numpy()
    keras_out = np.clip(np.rint(np.clip(x - prediction, 0, 1) * 255), 0, 255).astype(np.uint8)
    with tempfile.TemporaryDirectory() as scratch:
        noisy_path = os.path.join(scratch, "noisy.png")
        Image.fromarray(noisy).save(noisy_path)
        subprocess.run([args.compare_dae, "denoise", noisy_path, "--output", scratch, "--model", args.weights,
                        "--sigma", f"{args.compare_sigma:g}"], check=True, capture_output=True)
        dae_out = np.asarray(Image.open(os.path.join(scratch, "noisy-denoised.png")).convert("RGB"))
    diff = np.abs(keras_out.astype(np.int32) - dae_out.astype(np.int32))

    def psnr(a):
        return float(10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - clean) ** 2)))
    return {"check": "keras copy with DAEKit weights vs dae denoise", "image": name, "crop": s, "sigma": args.compare_sigma,
            "maxAbsDiff8bit": int(diff.max()), "fractionDiffering": float(np.mean(diff > 0)),
            "psnrKeras": psnr(keras_out), "psnrDae": psnr(dae_out), "psnrNoisy": psnr(noisy)}


def load_daekit_weights(model, path):
    """Reads DAEKit's safetensors (kernels [kh, kw, in, out], Keras's own layout) into `model` by layer name."""
    import numpy as np
    import struct
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    for layer in model.layers:
        if not layer.weights:
            continue
        tensors = []
        for part in ("kernel", "bias"):
            entry = header[f"{layer.name}.{part}"]
            start, end = entry["data_offsets"]
            tensors.append(np.frombuffer(data[start:end], dtype="<f4").reshape(entry["shape"]))
        layer.set_weights(tensors)


if __name__ == "__main__":
    main()
