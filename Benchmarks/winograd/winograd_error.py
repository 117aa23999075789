#!/usr/bin/env python3
"""Rounding error of Winograd F(2x2,3x3) and F(4x4,3x3) against float64, in numpy float32.

F(4x4,3x3) with two sets of interpolation points: Lavin's (0, 1, -1, 2, -2, inf) and
Barabasz et al.'s (0, 1, -1, 1/2, -2, inf) ("Error analysis and improving the accuracy of
Winograd convolution for deep neural networks", 2020). The matrices were built by
Toom-Cook (A^T: the points' powers; G: the evaluation of g; B^T: the inverse of the
evaluation matrix, transposed, each row scaled to coprime integers with G's row
divided by the same factor) and checked in exact rationals by winograd_f4_matrices.py.

A model of DAELayers' arithmetic (every transform and product rounded to float32),
used to choose the tile size before writing kernels (Docs/Benchmarks.md, "Winograd").
The library's own errors, measured on its kernels, come from WinogradTests.errorTable.
Usage: python3 Benchmarks/winograd/winograd_error.py
"""
import numpy as np

F2 = dict(m=2,
          BT=[[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
          G=[[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]],
          AT=[[1, 1, 1, 0], [0, 1, -1, -1]])
F4 = dict(m=4,
          BT=[[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0],
              [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
          G=[[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
             [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
          AT=[[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]])
F4_HALF = dict(m=4,
               BT=[[2, -3, -4, 3, 2, 0], [0, -2, 1, 5, 2, 0], [0, -2, 5, -1, -2, 0], [0, 2, 1, -2, -1, 0],
                   [0, 1, -2, -1, 2, 0], [0, 2, -3, -4, 3, 2]],
               G=[[1 / 2, 0, 0], [1 / 6, 1 / 6, 1 / 6], [1 / 6, -1 / 6, 1 / 6], [16 / 15, 8 / 15, 4 / 15],
                  [1 / 30, -1 / 15, 2 / 15], [0, 0, 1 / 2]],
               AT=[[1, 1, 1, 1, 1, 0], [0, 1, -1, 1 / 2, -2, 0], [0, 1, 1, 1 / 4, 4, 0], [0, 1, -1, 1 / 8, -8, 1]])


def direct64(x, k):
    h, w, _ = x.shape
    p = np.pad(x.astype(np.float64), ((1, 1), (1, 1), (0, 0)))
    y = np.zeros((h, w, k.shape[3]))
    for i in range(3):
        for j in range(3):
            y += p[i:i + h, j:j + w, :] @ k[i, j].astype(np.float64)
    return y


def im2col32(x, k):
    h, w, c = x.shape
    p = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    cols = np.stack([p[i:i + h, j:j + w, :] for i in range(3) for j in range(3)], axis=2).reshape(h * w, 9 * c)
    return (cols @ k.reshape(9 * c, -1)).reshape(h, w, -1)


def winograd32(x, k, f):
    m, a = f["m"], f["m"] + 2
    BT, G, AT = (np.array(f[n], dtype=np.float64) for n in ("BT", "G", "AT"))
    h, w, c = x.shape
    th, tw = -(-h // m), -(-w // m)
    p = np.zeros((th * m + 2, tw * m + 2, c), np.float32)
    p[1:h + 1, 1:w + 1] = x
    # Kernel transform in float64, rounded once (as the library does).
    U = np.einsum("ai,ijcf,bj->abcf", G, k.astype(np.float64), G).astype(np.float32)
    BT32, AT32 = BT.astype(np.float32), AT.astype(np.float32)
    d = np.stack([np.stack([p[ty * m:ty * m + a, tx * m:tx * m + a] for tx in range(tw)]) for ty in range(th)])
    V = np.einsum("ai,yxijc->yxajc", BT32, d).astype(np.float32)
    V = np.einsum("yxajc,bj->yxabc", V, BT32).astype(np.float32)
    M = np.einsum("yxabc,abcf->yxabf", V, U).astype(np.float32)
    Y = np.einsum("ia,yxabf->yxibf", AT32, M).astype(np.float32)
    Y = np.einsum("yxibf,jb->yxijf", Y, AT32).astype(np.float32)
    return Y.transpose(0, 2, 1, 3, 4).reshape(th * m, tw * m, -1)[:h, :w]


def main():
    rng = np.random.default_rng(1)
    print("| Cin → Cout | im2col + GEMM | F(2×2, 3×3) | F(4×4, 3×3), points ±2 | F(4×4, 3×3), points ½, −2 |"
          "  (max |Δ| / max |y|, float32 model against float64)")
    print("| --- | ---: | ---: | ---: | ---: |")
    for cin, cout in [(3, 48), (47, 48), (48, 48), (64, 64), (96, 96)]:
        x = rng.uniform(0, 1, (64, 64, cin)).astype(np.float32)
        bound = np.sqrt(6 / (9 * (cin + cout)))  # Glorot uniform, as Keras and the presets draw
        k = rng.uniform(-bound, bound, (3, 3, cin, cout)).astype(np.float32)
        exact = direct64(x, k)
        scale = np.abs(exact).max()
        errors = [np.abs(f(x, k).astype(np.float64) - exact).max() / scale
                  for f in (im2col32, lambda x, k: winograd32(x, k, F2), lambda x, k: winograd32(x, k, F4),
                            lambda x, k: winograd32(x, k, F4_HALF))]
        print(f"| {cin} → {cout} | " + " | ".join(f"{e:.1e}" for e in errors) + " |")


if __name__ == "__main__":
    main()
