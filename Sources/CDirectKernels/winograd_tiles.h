// Where a Winograd F(m×m, 3×3) tile of the batch reads and writes, shared by
// the F(2×2) transforms (winograd_transforms.c, m = 2) and the F(4×4) ones
// (winograd_f4_transforms.c, m = 4); the numbering of tiles is
// dae_winograd_shape's (include/dae_winograd_kernels.h). Not a public header.
#ifndef DAE_WINOGRAD_TILES_H
#define DAE_WINOGRAD_TILES_H

#include "dae_winograd_kernels.h"
#include <string.h>

/// Where tile `index` of the batch reads and writes: image, tile row, tile column.
static inline void winograd_tile_position(const dae_winograd_shape *s, long index, long *image, long *row, long *column) {
    const long perImage = s->tileRows * s->tileColumns;
    *image = index / perImage;
    const long r = index - *image * perImage;
    *row = r / s->tileColumns;
    *column = r - *row * s->tileColumns;
}

/// Where output tile `index` of the batch writes: the index of its first
/// output pixel in the batch (pixels, not floats), and how many of its m
/// rows and m columns lie inside the output (`rows`, `columns`).
static inline long winograd_output_tile(const dae_winograd_shape *s, long index, long m, long *rows, long *columns) {
    long image, row, column;
    winograd_tile_position(s, index, &image, &row, &column);
    const long oh = s->outputHeight, ow = s->outputWidth, oy = m * row, ox = m * column;
    *rows = oh - oy < m ? oh - oy : m;
    *columns = ow - ox < m ? ow - ox : m;
    return (image * oh + oy) * ow + ox;
}

/// The tile's (m+2)×(m+2) input window: a pointer into the image and its row
/// stride when the window lies inside the image, else `edge` ((m+2)²·Cin
/// floats) filled with the window, zero outside the image, and a row stride of (m+2)·Cin.
static inline const float *winograd_tile_window(const dae_winograd_shape *s, const float *input, long index, float *edge,
                                                long *rowStride, long m) {
    long image, row, column;
    winograd_tile_position(s, index, &image, &row, &column);
    const long side = m + 2;
    const long cin = s->inputChannels, h = s->inputHeight, w = s->inputWidth;
    const long top = m * row - s->padTop, left = m * column - s->padLeft;
    const float *source = input + image * h * w * cin;
    if (top >= 0 && top + side <= h && left >= 0 && left + side <= w) {
        *rowStride = w * cin;
        return source + (top * w + left) * cin;
    }
    memset(edge, 0, sizeof(float) * (size_t)(side * side * cin));
    const long c0 = left < 0 ? -left : 0, c1 = w - left < side ? w - left : side;
    const long r0 = top < 0 ? -top : 0, r1 = h - top < side ? h - top : side;
    if (c1 > c0) {
        for (long i = r0; i < r1; i++) {
            memcpy(edge + (i * side + c0) * cin, source + ((top + i) * w + left + c0) * cin,
                   sizeof(float) * (size_t)((c1 - c0) * cin));
        }
    }
    *rowStride = side * cin;
    return edge;
}

#endif
