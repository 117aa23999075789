#!/usr/bin/env python3
"""Photo denoising anchors: DAEKit's photo model against the classical denoisers.

On center crops of photographs (default: the two held-out photos Wood.jpg and
YellowFlower.jpg of Debian's mate-backgrounds, 512x512), corrupted with
zero-mean Gaussian noise of std SIGMA/255, clipped to [0, 255] and rounded to
8 bits (one noisy copy per image, the same for every method), it measures the
PSNR (8-bit, peak 255, averaged per image) and the time per crop of:

  noisy      the input itself
  blur       a Gaussian blur whose std is tuned on the answer (an upper bound for blurring)
  nlm        scikit-image non-local means, h = 0.8 sigma, 5x5 patches, fast mode
  bm3d       the `bm3d` package with the noise std known (bm3d_rgb for colour)
  dae        `dae denoise --model MODEL` on the noisy PNGs (whole process, all crops at once)

--other adds photographs unlike the training set: the sample images shipped in
scikit-image's wheel (astronaut, coffee, chelsea, rocket, motorcycle, brick,
grass, gravel), center-cropped the same way.

Needs: pip install scikit-image bm3d (in a venv); the dae binary built in release.
Prints a Markdown table; --json FILE writes every figure.

  python3 Benchmarks/photos/photo_anchors.py --model out-photos/model.safetensors --dae .build/release/dae
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

MATE = "/usr/share/backgrounds/mate/nature"
OTHER = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "brick.png", "grass.png", "gravel.png"]


def center_crop(image, side):
    h, w = image.shape[:2]
    side_h, side_w = min(side, h), min(side, w)
    top, left = (h - side_h) // 2, (w - side_w) // 2
    return image[top:top + side_h, left:left + side_w]


def load_rgb(path, side):
    image = np.asarray(Image.open(path).convert("RGB"))
    return center_crop(image, side)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def to_uint8(x):
    return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="a DAEKit photo model (safetensors)")
    p.add_argument("--dae", default="dae", help="the dae binary")
    p.add_argument("--images", default=MATE, help="directory of the held-out photographs")
    p.add_argument("--files", nargs="*", default=["Wood.jpg", "YellowFlower.jpg"])
    p.add_argument("--crop", type=int, default=512)
    p.add_argument("--sigma", type=float, default=25.0, help="noise std in 8-bit units")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--other", action="store_true", help="also scikit-image's sample photographs")
    p.add_argument("--skip-bm3d", action="store_true")
    p.add_argument("--json", default=None)
    args = p.parse_args()

    import skimage
    from skimage.filters import gaussian
    from skimage.restoration import denoise_nl_means

    sets = {"held-out": [(name, os.path.join(args.images, name)) for name in args.files]}
    if args.other:
        data_dir = os.path.join(os.path.dirname(skimage.__file__), "data")
        sets["other"] = [(name, os.path.join(data_dir, name)) for name in OTHER if os.path.exists(os.path.join(data_dir, name))]
    sigma = args.sigma / 255.0
    rng = np.random.default_rng(args.seed)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for set_name, files in sets.items():
            rows = []
            noisy_paths = []
            for name, path in files:
                clean = load_rgb(path, args.crop)
                noisy = to_uint8(np.clip(clean / 255.0 + rng.normal(0.0, sigma, clean.shape), 0.0, 1.0))
                stem = f"{set_name}-{os.path.splitext(name)[0]}"
                noisy_path = os.path.join(scratch, stem + ".png")
                Image.fromarray(noisy).save(noisy_path)
                noisy_paths.append(noisy_path)
                x = noisy / 255.0
                row = {"image": name, "shape": list(clean.shape), "noisy": psnr(noisy, clean)}
                best = max((psnr(to_uint8(gaussian(x, sigma=s, channel_axis=-1)), clean), s) for s in np.arange(0.3, 3.01, 0.1))
                row["blur"], row["blurSigma"] = best[0], float(best[1])
                start = time.perf_counter()
                nlm = denoise_nl_means(x, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True, channel_axis=-1)
                row["nlmSeconds"] = time.perf_counter() - start
                row["nlm"] = psnr(to_uint8(nlm), clean)
                if not args.skip_bm3d:
                    import bm3d
                    start = time.perf_counter()
                    out = bm3d.bm3d_rgb(x, sigma_psd=sigma)
                    row["bm3dSeconds"] = time.perf_counter() - start
                    row["bm3d"] = psnr(to_uint8(out), clean)
                row["clean"] = clean
                rows.append(row)
                print(f"[anchors] {set_name}/{name}: noisy {row['noisy']:.2f}, blur {row['blur']:.2f}, nlm {row['nlm']:.2f}"
                      + ("" if args.skip_bm3d else f", bm3d {row['bm3d']:.2f}"), file=sys.stderr)
            out_dir = os.path.join(scratch, "out-" + set_name)
            start = time.perf_counter()
            subprocess.run([args.dae, "denoise", "--model", args.model, *noisy_paths, "--output", out_dir],
                           check=True, stdout=subprocess.DEVNULL)
            dae_seconds = (time.perf_counter() - start) / len(noisy_paths)
            for row, noisy_path in zip(rows, noisy_paths):
                stem = os.path.splitext(os.path.basename(noisy_path))[0]
                out = np.asarray(Image.open(os.path.join(out_dir, stem + "-denoised.png")).convert("RGB"))
                row["dae"] = psnr(out, row.pop("clean"))
                row["daeSeconds"] = dae_seconds
            results[set_name] = rows

    methods = ["noisy", "blur", "nlm"] + ([] if args.skip_bm3d else ["bm3d"]) + ["dae"]
    print(f"| set | {' | '.join(methods)} |")
    print("|---|" + "---:|" * len(methods))
    for set_name, rows in results.items():
        means = [np.mean([r[m] for r in rows]) for m in methods]
        print(f"| {set_name} ({len(rows)} × {args.crop}², σ {args.sigma:g}) | " + " | ".join(f"{v:.2f} dB" for v in means) + " |")
    for set_name, rows in results.items():
        times = {m: np.mean([r[m + "Seconds"] for r in rows]) for m in ["nlm", "bm3d", "dae"] if m + "Seconds" in rows[0]}
        print(f"\nseconds per crop ({set_name}): " + ", ".join(f"{m} {t:.2f}" for m, t in times.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sigma": args.sigma, "crop": args.crop, "seed": args.seed, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
