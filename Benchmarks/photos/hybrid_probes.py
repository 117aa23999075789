"""Probes of what might close the built-in model's gap to CBM3D, on the
anchors' crops and noise (`builtin_anchors.py`: center 512x512 crops,
Gaussian noise of std SIGMA/255 seeded per image, clipped, 8-bit), PSNR per
image then averaged per set. Each probe runs `dae denoise` (blind: sigma
estimated) and post-processes its output; none of them is in the library.

  wiener     BM3D's second (Wiener) stage with the dae output as its pilot
             estimate instead of BM3D's own first stage (`bm3d` package,
             opponent colour space as `bm3d_rgb`, block matching on the
             luminance, sigma known), alone and averaged with the dae output.
  ensemble   the self-ensemble: dae on the 8 flips and rotations of each
             noisy crop, turned back and averaged (first 2, then all 8).
  gray-mean  the gray test photographs (brick, grass, gravel: R = G = B)
             denoised as gray: the mean of the noisy channels (noise std
             SIGMA/sqrt(3)) through the built-in gray model.
  luma       every photograph's luminance from the gray model: the mean of the
             noisy channels (noise std SIGMA/sqrt(3)) through the built-in gray
             model, put in place of the mean of the colour model's output
             (its colour differences kept), alone and half and half.
  guided-nlm non-local means of the noisy crop with its weights from the dae
             output (7x7 patches, 21x21 search window, mean squared patch
             difference d, weight exp(-d / h^2) for h = 12, 18, 27 on the
             0-255 scale), alone and averaged with the dae output.

Usage (the anchors' venv: numpy, pillow, scikit-image, sporco, matplotlib, bm3d):
  python3 Benchmarks/photos/hybrid_probes.py wiener [--sigma 25] [--dae .build/release/dae] [--model FILE]
  python3 Benchmarks/photos/hybrid_probes.py ensemble
  python3 Benchmarks/photos/hybrid_probes.py gray-mean
  python3 Benchmarks/photos/hybrid_probes.py luma
  python3 Benchmarks/photos/hybrid_probes.py guided-nlm   (needs scipy; about 10 s a crop)
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from builtin_anchors import noisy_copy, test_sets  # noqa: E402  (the same crops and noise)
from photo_anchors import center_crop, psnr, to_uint8  # noqa: E402


def dae_denoise(dae, model, images, directory, mode="RGB", options=()):
    """`dae denoise` on every image (uint8 arrays) in one process; the outputs in [0, 255] as float."""
    os.makedirs(directory)
    paths = []
    for index, image in enumerate(images):
        paths.append(os.path.join(directory, f"{index:03d}.png"))
        Image.fromarray(image).save(paths[-1])
    out = os.path.join(directory, "out")
    subprocess.run([dae, "denoise", *paths, "--output", out, *options] + (["--model", model] if model else []), check=True,
                   capture_output=True)
    return [np.asarray(Image.open(os.path.join(out, f"{index:03d}-denoised.png")).convert(mode)).astype(float)
            for index in range(len(images))]


def symmetry(x, t, inverse=False):
    """One of the 8 flips and rotations of the square: bit 2 transposes, bit 0 flips left-right, bit 1 top-bottom."""
    steps = [(4, lambda a: np.swapaxes(a, 0, 1)), (1, lambda a: a[:, ::-1]), (2, lambda a: a[::-1])]
    for bit, step in (reversed(steps) if inverse else steps):
        if t & bit:
            x = step(x)
    return np.ascontiguousarray(x)


def wiener_stage(noisy, pilot, sigma):
    """BM3D's Wiener stage on `noisy` with `pilot` as its estimate, both in [0, 1], in the opponent colour space."""
    import bm3d
    z, o_max, o_min, scale, a = bm3d.rgb_to(noisy, "opp")
    p = ((pilot.reshape(-1, 3) @ a.T - o_min) / (o_max - o_min)).reshape(noisy.shape)
    stds = sigma * np.sqrt(scale)
    # Channel by channel, the luminance's block matches reused (what bm3d_rgb does, with a pilot of our own).
    first, matches = bm3d.bm3d(z[..., 0], stds[0], "np", stage_arg=np.ascontiguousarray(p[..., 0]), blockmatches=(False, True))
    planes = [first] + [bm3d.bm3d(z[..., c], stds[c], "np", stage_arg=np.ascontiguousarray(p[..., c]), blockmatches=matches)
                        for c in (1, 2)]
    y = np.stack([np.squeeze(plane) for plane in planes], axis=-1)
    return bm3d.rgb_to(y, "opp", True, o_max, o_min)[0]


def guided_nlm(noisy, pilot, radius=10, patch=7, strengths=(12, 18, 27)):
    """Non-local means of `noisy` (0-255 floats) with weights from `pilot`: for each offset in the
    (2·radius+1)² window, the mean squared difference d of the pilot's patch×patch patches, weight
    exp(−d / h²); one estimate per strength h."""
    from scipy.ndimage import uniform_filter
    height, width, channels = noisy.shape
    z = np.pad(noisy, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
    p = np.pad(pilot, ((radius, radius), (radius, radius), (0, 0)), mode="reflect")
    sums = {h: np.zeros_like(noisy) for h in strengths}
    weights = {h: np.zeros((height, width)) for h in strengths}
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            window = (slice(radius + dy, radius + dy + height), slice(radius + dx, radius + dx + width))
            d = uniform_filter(((pilot - p[window]) ** 2).sum(-1), size=patch, mode="reflect") / channels
            for h in strengths:
                w = np.exp(-d / (h * h))
                sums[h] += w[..., None] * z[window]
                weights[h] += w
    return {h: sums[h] / weights[h][..., None] for h in strengths}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probe", choices=["wiener", "ensemble", "gray-mean", "luma", "guided-nlm"])
    parser.add_argument("--sigma", type=float, default=25)
    parser.add_argument("--dae", default=".build/release/dae")
    parser.add_argument("--model", default=None, help="a colour model file (default: the built-in one)")
    args = parser.parse_args()
    sets = test_sets()
    rows = []  # (set, name, {column: PSNR})
    with tempfile.TemporaryDirectory() as scratch:
        items = []
        for set_name, files in sets.items():
            for path in files:
                name = os.path.basename(path)
                clean = center_crop(np.asarray(Image.open(path).convert("RGB")), 512)
                items.append((set_name, name, clean, noisy_copy(clean, args.sigma, 0, name)))
        if args.probe == "gray-mean":
            items = [item for item in items if (item[2][..., 0] == item[2][..., 1]).all() and (item[2][..., 1] == item[2][..., 2]).all()]
        noisy = [item[3] for item in items]
        plain = dae_denoise(args.dae, args.model, noisy, os.path.join(scratch, "plain"))
        if args.probe == "wiener":
            for (set_name, name, clean, z), d in zip(items, plain):
                w = wiener_stage(z / 255.0, d / 255.0, args.sigma / 255.0)
                rows.append((set_name, name, {"dae": psnr(to_uint8(d / 255), clean), "wiener": psnr(to_uint8(w), clean),
                                              "average": psnr(to_uint8((w + d / 255) / 2), clean)}))
        elif args.probe == "ensemble":
            turned = [plain] + [[symmetry(o, t, inverse=True) for o in
                                 dae_denoise(args.dae, args.model, [symmetry(z, t) for z in noisy], os.path.join(scratch, f"t{t}"))]
                                for t in range(1, 8)]
            for index, (set_name, name, clean, _) in enumerate(items):
                outputs = [turned[t][index] for t in range(8)]
                rows.append((set_name, name, {"dae": psnr(to_uint8(outputs[0] / 255), clean),
                                              "2 symmetries": psnr(to_uint8(np.mean(outputs[:2], 0) / 255), clean),
                                              "8 symmetries": psnr(to_uint8(np.mean(outputs, 0) / 255), clean)}))
        elif args.probe == "guided-nlm":
            for (set_name, name, clean, z), d in zip(items, plain):
                values = {"dae": psnr(to_uint8(d / 255), clean)}
                for h, e in guided_nlm(z.astype(float), d).items():
                    values[f"h {h}"] = psnr(to_uint8(e / 255), clean)
                    values[f"h {h}, averaged"] = psnr(to_uint8((e + d) / 2 / 255), clean)
                rows.append((set_name, name, values))
        elif args.probe == "luma":
            means = [np.rint(z.astype(float).mean(axis=-1)).astype(np.uint8) for z in noisy]
            gray = dae_denoise(args.dae, None, means, os.path.join(scratch, "gray"), mode="L")  # the built-in gray model
            for (set_name, name, clean, _), d, g in zip(items, plain, gray):
                luminance = d.mean(axis=-1)
                swapped = d + (g - luminance)[..., None]
                half = d + ((g - luminance) / 2)[..., None]
                rows.append((set_name, name, {"dae (colour)": psnr(to_uint8(d / 255), clean),
                                              "gray model's luminance": psnr(to_uint8(swapped / 255), clean),
                                              "half and half": psnr(to_uint8(half / 255), clean)}))
        else:
            means = [np.rint(z.astype(float).mean(axis=-1)).astype(np.uint8) for z in noisy]
            gray = dae_denoise(args.dae, None, means, os.path.join(scratch, "gray"), mode="L")  # the built-in gray model
            for (set_name, name, clean, _), d, g in zip(items, plain, gray):
                rows.append((set_name, name, {"dae (colour)": psnr(to_uint8(d / 255), clean),
                                              "gray model on the channels' mean": psnr(to_uint8(np.repeat(g[..., None], 3, -1) / 255), clean)}))
    columns = list(rows[0][2])
    print("| set | photograph | " + " | ".join(columns) + " |")
    print("|---|---|" + "---:|" * len(columns))
    for set_name, name, values in rows:
        print(f"| {set_name} | {name} | " + " | ".join(f"{values[c]:.2f}" for c in columns) + " |")
    for set_name in sets:
        chosen = [values for s, _, values in rows if s == set_name]
        if chosen:
            print(f"| {set_name} ({len(chosen)}) | mean | " + " | ".join(f"{np.mean([v[c] for v in chosen]):.2f}" for c in columns) + " |")


if __name__ == "__main__":
    main()
