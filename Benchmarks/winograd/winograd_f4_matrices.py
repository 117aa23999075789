#!/usr/bin/env python3
"""Builds and checks the Winograd F(4x4,3x3) matrices in exact rationals.

Toom-Cook for the correlation y_i = sum_j d_{i+j} g_j (m = 4 outputs, r = 3 taps,
n = 6 points: five finite ones and infinity):
  A^T[i][k] = p_k^i (infinity: 1 in the last row only),
  G[k][j]   = p_k^j (infinity: [0, 0, 1]),
  B^T       = the inverse of the 6x6 evaluation matrix, transposed,
then every row of B^T scaled to coprime integers and the same row of G divided
by that factor. Checks A^T [(G g) * (B^T d)] == y on random rational d and g, and
prints the matrices for Lavin's points (0, 1, -1, 2, -2) and for
(0, 1, -1, 1/2, -2) (Barabasz et al. 2020), which DAELayers uses
(include/dae_winograd_f4.h, WinogradF4Convolution.swift).
Usage: python3 Benchmarks/winograd/winograd_f4_matrices.py
"""
import random
from fractions import Fraction as Fr
from math import gcd, lcm


def inverse(matrix):
    n = len(matrix)
    a = [row[:] + [Fr(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)]
    for c in range(n):
        p = next(r for r in range(c, n) if a[r][c] != 0)
        a[c], a[p] = a[p], a[c]
        pivot = a[c][c]
        a[c] = [x / pivot for x in a[c]]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return [row[n:] for row in a]


def derive(points, m=4, r=3):
    n = m + r - 1
    pts = [Fr(p) for p in points]
    at = [[p ** i for p in pts] + [Fr(int(i == m - 1))] for i in range(m)]
    g = [[p ** j for j in range(r)] for p in pts] + [[Fr(int(j == r - 1)) for j in range(r)]]
    v = [[p ** j for j in range(n)] for p in pts] + [[Fr(int(j == n - 1)) for j in range(n)]]
    c = inverse(v)
    bt = [[c[j][k] for j in range(n)] for k in range(n)]
    for k in range(n):
        den = lcm(*[x.denominator for x in bt[k]])
        num = 0
        for x in bt[k]:
            num = gcd(num, (x * den).numerator)
        s = Fr(den, num)
        bt[k] = [x * s for x in bt[k]]
        g[k] = [x / s for x in g[k]]
    return at, g, bt


def check(at, g, bt, m=4, r=3, trials=200):
    n = m + r - 1
    rng = random.Random(1)
    for _ in range(trials):
        d = [Fr(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(n)]
        k = [Fr(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(r)]
        gk = [sum(g[e][j] * k[j] for j in range(r)) for e in range(n)]
        bd = [sum(bt[e][j] * d[j] for j in range(n)) for e in range(n)]
        y = [sum(at[i][e] * gk[e] * bd[e] for e in range(n)) for i in range(m)]
        assert y == [sum(d[i + j] * k[j] for j in range(r)) for i in range(m)]


def main():
    for points in [(0, 1, -1, 2, -2), (0, 1, -1, Fr(1, 2), -2)]:
        at, g, bt = derive(points)
        check(at, g, bt)
        print("points", ", ".join(str(p) for p in points), "and infinity: exact")
        for name, matrix in (("A^T", at), ("G", g), ("B^T", bt)):
            print(f"  {name}:", [[str(x) for x in row] for row in matrix])


if __name__ == "__main__":
    main()
