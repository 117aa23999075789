// The body of the Winograd F(4×4, 3×3) input, output and output-gradient transforms
// (include/dae_winograd_f4.h has the matrices and the layouts), written once
// and included by winograd_f4_transforms.c three times: for AVX-512F,
// AVX2 + FMA and portable C. The includer defines
//   F4_V                   a vector of F4_WIDTH floats (one channel per lane)
//   F4_MASK, F4_MASK_FOR(n)  which of the lanes exist (the first n)
//   F4_LOAD(p, mask), F4_STORE(p, v, mask)
//   F4_ADD(a, b), F4_SUB(a, b), F4_MUL(a, k), F4_FMA(a, k, c) = a·k + c rounded once, F4_RELU(a) = max(0, a)
//   F4_INLINE, F4_EXPORT   attributes (the target), F4_NAME(x) the variant's name for x
// so every variant runs the same operations in the same order on every lane,
// and undefines them at its end (the next variant defines them again).
// Not a header of its own: no include guard.

/// Bᵀ applied to six values: the six transformed ones, into r.
F4_INLINE void F4_NAME(f4_input_1d)(F4_V d0, F4_V d1, F4_V d2, F4_V d3, F4_V d4, F4_V d5, F4_V *r) {
    const F4_V p = F4_SUB(d1, d3), q = F4_SUB(d2, d4);
    r[0] = F4_FMA(F4_ADD(d0, d4), 2.0f, F4_FMA(p, -3.0f, F4_MUL(d2, -4.0f)));  // 2d0 − 3d1 − 4d2 + 3d3 + 2d4
    r[1] = F4_FMA(F4_SUB(d4, d1), 2.0f, F4_FMA(d3, 5.0f, d2));                  // −2d1 + d2 + 5d3 + 2d4
    r[2] = F4_SUB(F4_FMA(d2, 5.0f, F4_MUL(F4_ADD(d1, d4), -2.0f)), d3);         // −2d1 + 5d2 − d3 − 2d4
    r[3] = F4_FMA(p, 2.0f, q);                                                   // 2d1 + d2 − 2d3 − d4
    r[4] = F4_FMA(q, -2.0f, p);                                                  // d1 − 2d2 − d3 + 2d4
    r[5] = F4_FMA(F4_ADD(d1, d5), 2.0f, F4_FMA(q, -3.0f, F4_MUL(d3, -4.0f)));  // 2d1 − 3d2 − 4d3 + 3d4 + 2d5
}

/// Aᵀ applied to six values: the four outputs, into y.
F4_INLINE void F4_NAME(f4_output_1d)(F4_V m0, F4_V m1, F4_V m2, F4_V m3, F4_V m4, F4_V m5, F4_V *y) {
    const F4_V a = F4_ADD(m1, m2), b = F4_SUB(m1, m2);
    y[0] = F4_ADD(F4_ADD(m0, a), F4_ADD(m3, m4));             // m0 + m1 + m2 + m3 + m4
    y[1] = F4_FMA(m4, -2.0f, F4_FMA(m3, 0.5f, b));             // m1 − m2 + ½m3 − 2m4
    y[2] = F4_FMA(m4, 4.0f, F4_FMA(m3, 0.25f, a));             // m1 + m2 + ¼m3 + 4m4
    y[3] = F4_ADD(F4_FMA(m4, -8.0f, F4_FMA(m3, 0.125f, b)), m5);  // m1 − m2 + ⅛m3 − 8m4 + m5
}

/// A applied to four values (Aᵀ's transpose, training's output-gradient
/// transform): the six transformed ones, into r.
F4_INLINE void F4_NAME(f4_gradient_1d)(F4_V y0, F4_V y1, F4_V y2, F4_V y3, F4_V *r) {
    const F4_V even = F4_ADD(y0, y2), odd = F4_ADD(y1, y3);
    r[0] = y0;
    r[1] = F4_ADD(even, odd);                                         // y0 + y1 + y2 + y3
    r[2] = F4_SUB(even, odd);                                         // y0 − y1 + y2 − y3
    r[3] = F4_FMA(y3, 0.125f, F4_FMA(y2, 0.25f, F4_FMA(y1, 0.5f, y0)));  // y0 + ½y1 + ¼y2 + ⅛y3
    r[4] = F4_FMA(y3, -8.0f, F4_FMA(y2, 4.0f, F4_FMA(y1, -2.0f, y0)));   // y0 − 2y1 + 4y2 − 8y3
    r[5] = y3;
}

/// V = Bᵀ d B of one slice of channels: d at the window's top-left pixel,
/// `rs` floats between rows, `cs` between columns and between the 36 entries e = 6·a + b of `v`.
F4_INLINE void F4_NAME(f4_input_slice)(const float *d, long rs, long cs, float *v, F4_MASK mask) {
    F4_V t[36];
    // Rows: t[i][b] = (d B)[i][b].
    F4_UNROLL for (int i = 0; i < 6; i++) {
        const float *p = d + i * rs;
        F4_NAME(f4_input_1d)(F4_LOAD(p, mask), F4_LOAD(p + cs, mask), F4_LOAD(p + 2 * cs, mask),
                             F4_LOAD(p + 3 * cs, mask), F4_LOAD(p + 4 * cs, mask), F4_LOAD(p + 5 * cs, mask), t + 6 * i);
    }
    // Columns: V[a][b] = (Bᵀ t)[a][b].
    F4_UNROLL for (int b = 0; b < 6; b++) {
        F4_V column[6];
        F4_NAME(f4_input_1d)(t[b], t[6 + b], t[12 + b], t[18 + b], t[24 + b], t[30 + b], column);
        F4_UNROLL for (int a = 0; a < 6; a++) F4_STORE(v + (6 * a + b) * cs, column[a], mask);
    }
}

/// y = Aᵀ M A + bias (then ReLU) of one slice of filters: m at the tile's
/// entry 0 (entries `cout` apart), output pixel (i, j) at y + i·rs + j·cout,
/// the first `rows` × `columns` of the 4×4 written.
F4_INLINE void F4_NAME(f4_output_slice)(const float *m, long cout, F4_V bias, int relu, float *y, long rs, long rows,
                                        long columns, F4_MASK mask) {
    F4_V s[24];
    // Rows: s[a][j] = (M A)[a][j].
    F4_UNROLL for (int a = 0; a < 6; a++) {
        const float *p = m + 6 * a * cout;
        F4_NAME(f4_output_1d)(F4_LOAD(p, mask), F4_LOAD(p + cout, mask), F4_LOAD(p + 2 * cout, mask),
                              F4_LOAD(p + 3 * cout, mask), F4_LOAD(p + 4 * cout, mask), F4_LOAD(p + 5 * cout, mask),
                              s + 4 * a);
    }
    // Columns: y[i][j] = (Aᵀ s)[i][j] + bias.
    F4_UNROLL for (int j = 0; j < 4; j++) {
        if (j >= columns) break;
        F4_V column[4];
        F4_NAME(f4_output_1d)(s[j], s[4 + j], s[8 + j], s[12 + j], s[16 + j], s[20 + j], column);
        F4_UNROLL for (int i = 0; i < 4; i++) {
            if (i >= rows) break;
            F4_V out = F4_ADD(column[i], bias);
            if (relu) out = F4_RELU(out);
            F4_STORE(y + i * rs + j * cout, out, mask);
        }
    }
}

/// dM = A dY Aᵀ of one slice of filters: dy at the tile's first output
/// pixel (pixel (i, j) at dy + i·rs + j·cout; those past the first `rows` ×
/// `columns` taken as 0), dm at entry 0 (entries `cout` apart).
F4_INLINE void F4_NAME(f4_output_gradient_slice)(const float *dy, long rs, long cout, long rows, long columns, float *dm,
                                                 F4_MASK mask) {
    F4_V t[24];
    // Rows: t[i][b] = (dY Aᵀ)[i][b].
    F4_UNROLL for (int i = 0; i < 4; i++) {
        F4_V p[4];
        F4_UNROLL for (int j = 0; j < 4; j++) p[j] = i < rows && j < columns ? F4_LOAD(dy + i * rs + j * cout, mask) : F4_ZERO;
        F4_NAME(f4_gradient_1d)(p[0], p[1], p[2], p[3], t + 6 * i);
    }
    // Columns: dM[a][b] = (A t)[a][b].
    F4_UNROLL for (int b = 0; b < 6; b++) {
        F4_V column[6];
        F4_NAME(f4_gradient_1d)(t[b], t[6 + b], t[12 + b], t[18 + b], column);
        F4_UNROLL for (int a = 0; a < 6; a++) F4_STORE(dm + (6 * a + b) * cout, column[a], mask);
    }
}

F4_EXPORT void F4_NAME(dae_winograd_f4_output_gradient_transform)(const dae_winograd_shape *s, const float *outputGradient,
                                                                  long first, long count, float *dm) {
    const long cout = s->outputChannels, ow = s->outputWidth, tail = cout % F4_WIDTH;
    const F4_MASK full = F4_MASK_FOR(F4_WIDTH), partial = F4_MASK_FOR(tail);
    for (long k = 0; k < count; k++) {
        long rows, columns;
        const float *dy = outputGradient + winograd_output_tile(s, first + k, 4, &rows, &columns) * cout;
        float *out = dm + k * 36 * cout;
        long f0 = 0;
        for (; f0 + F4_WIDTH <= cout; f0 += F4_WIDTH)
            F4_NAME(f4_output_gradient_slice)(dy + f0, ow * cout, cout, rows, columns, out + f0, full);
        if (tail) F4_NAME(f4_output_gradient_slice)(dy + f0, ow * cout, cout, rows, columns, out + f0, partial);
    }
}

F4_EXPORT void F4_NAME(dae_winograd_f4_input_transform)(const dae_winograd_shape *s, const float *input, long first,
                                                        long count, float *v, float *edge) {
    const long cin = s->inputChannels, tail = cin % F4_WIDTH;
    const F4_MASK full = F4_MASK_FOR(F4_WIDTH), partial = F4_MASK_FOR(tail);
    for (long k = 0; k < count; k++) {
        long rs;
        const float *d = winograd_tile_window(s, input, first + k, edge, &rs, 4);
        float *out = v + k * 36 * cin;
        long c0 = 0;
        for (; c0 + F4_WIDTH <= cin; c0 += F4_WIDTH) F4_NAME(f4_input_slice)(d + c0, rs, cin, out + c0, full);
        if (tail) F4_NAME(f4_input_slice)(d + c0, rs, cin, out + c0, partial);
    }
}

F4_EXPORT void F4_NAME(dae_winograd_f4_output_transform)(const dae_winograd_shape *s, const float *m, long first,
                                                         long count, float *output, const float *bias, int relu) {
    const long cout = s->outputChannels, ow = s->outputWidth, tail = cout % F4_WIDTH;
    const F4_MASK full = F4_MASK_FOR(F4_WIDTH), partial = F4_MASK_FOR(tail);
    for (long k = 0; k < count; k++) {
        long rows, columns;
        float *y = output + winograd_output_tile(s, first + k, 4, &rows, &columns) * cout;
        const float *mk = m + k * 36 * cout;
        long f0 = 0;
        for (; f0 + F4_WIDTH <= cout; f0 += F4_WIDTH) {
            const F4_V b = bias ? F4_LOAD(bias + f0, full) : F4_ZERO;
            F4_NAME(f4_output_slice)(mk + f0, cout, b, relu, y + f0, ow * cout, rows, columns, full);
        }
        if (tail) {
            const F4_V b = bias ? F4_LOAD(bias + f0, partial) : F4_ZERO;
            F4_NAME(f4_output_slice)(mk + f0, cout, b, relu, y + f0, ow * cout, rows, columns, partial);
        }
    }
}

#undef F4_V
#undef F4_WIDTH
#undef F4_MASK
#undef F4_MASK_FOR
#undef F4_LOAD
#undef F4_STORE
#undef F4_ZERO
#undef F4_ADD
#undef F4_SUB
#undef F4_MUL
#undef F4_FMA
#undef F4_RELU
#undef F4_INLINE
#undef F4_EXPORT
#undef F4_NAME
