// Row-by-row PNG and JPEG decoding and PNG encoding for DAEKit.
//
// libpng's and libjpeg's error handlers end in longjmp (libjpeg's default
// even calls exit()); a longjmp must never cross Swift frames. Every
// setjmp lives in this C file, and each call returns a status instead:
// 0 on success, -1 on error with a one-line message in the reader's or
// writer's `error` text.
#ifndef DAE_IMAGE_CODECS_H
#define DAE_IMAGE_CODECS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The longest message a reader or writer keeps (bytes, with the NUL).
#define DAE_CODEC_ERROR_SIZE 256

/// The file formats a reader recognises by their first bytes.
typedef enum { DAE_IMAGE_PNG = 1, DAE_IMAGE_JPEG = 2 } dae_image_format;

/// A decoder that hands out rows, top to bottom, as stored in the file.
typedef struct dae_image_reader dae_image_reader;

/// What a hostile file may make the decoders do.
typedef struct {
    /// The largest ancillary PNG chunk libpng may allocate (text, ICC profile,
    /// …; text chunks are skipped anyway).
    size_t max_chunk_bytes;
    /// The most scans a JPEG may have (as libjpeg-turbo's TJPARAM_SCANLIMIT):
    /// each scan of a progressive file passes over the whole coefficient buffer.
    int max_scans;
    /// The most bytes libjpeg may hold at once (its `max_memory_to_use`): a
    /// backstop for the whole-image coefficient buffer of a multi-scan JPEG,
    /// which the caller checks first (dae_image_reader_coefficient_bytes).
    size_t max_decoder_bytes;
} dae_image_limits;

/// Reads the header of the PNG or JPEG (told apart by signature) open on
/// `descriptor`, which the reader owns from then on (closed with it, or at
/// once on failure). Returns NULL on failure with the reason in `error`
/// (`error_size` bytes). Only the header is read: a JPEG's decompression
/// starts at the first dae_image_reader_read_rows.
dae_image_reader *dae_image_reader_open_descriptor(int descriptor, const dae_image_limits *limits,
                                                   char *error, size_t error_size);
/// The same for `count` bytes in memory, which must stay alive until the reader is closed.
dae_image_reader *dae_image_reader_open_memory(const void *bytes, size_t count, const dae_image_limits *limits,
                                               char *error, size_t error_size);
/// The image's width, height (as stored, before any EXIF orientation) and
/// samples per pixel as decoded: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
int dae_image_reader_width(const dae_image_reader *reader);
int dae_image_reader_height(const dae_image_reader *reader);
int dae_image_reader_samples(const dae_image_reader *reader);
/// Bytes per decoded sample: 2 for a 16-bit PNG (host byte order), else 1.
int dae_image_reader_bytes_per_sample(const dae_image_reader *reader);
/// Bits per sample in the file before decoding (16 for a 16-bit PNG, 8 for JPEG).
int dae_image_reader_source_bits(const dae_image_reader *reader);
dae_image_format dae_image_reader_format(const dae_image_reader *reader);
/// Whether rows can only be produced after the whole image is decoded
/// (an interlaced PNG). Reading all rows in one call decodes straight into
/// the caller's buffer; otherwise the reader decodes it all on the first read.
int dae_image_reader_needs_whole_image(const dae_image_reader *reader);
/// Whether the JPEG has several scans (progressive, or one scan per component).
int dae_image_reader_has_multiple_scans(const dae_image_reader *reader);
/// The bytes libjpeg will allocate for the whole-image coefficient buffer of
/// a multi-scan JPEG when decompression starts (0 for other files).
size_t dae_image_reader_coefficient_bytes(const dae_image_reader *reader);
/// The first APP1 Exif segment of a JPEG after its "Exif\0\0" identifier
/// (the TIFF header and IFDs), at most 65 533 bytes, or NULL; *count receives its length.
const unsigned char *dae_image_reader_exif(const dae_image_reader *reader, size_t *count);
/// Decodes the next `rows` rows into `buffer` (rows · width · samples ·
/// bytes per sample). After the last row it checks the end of the file
/// (PNG: up to IEND; JPEG: the EOI marker). Returns 0, or -1 with the
/// reason in dae_image_reader_error(); after an error, no further read succeeds.
int dae_image_reader_read_rows(dae_image_reader *reader, unsigned char *buffer, int rows);
/// The last error message ("" when none).
const char *dae_image_reader_error(const dae_image_reader *reader);
/// Frees the decoder and closes the file (NULL is allowed).
void dae_image_reader_close(dae_image_reader *reader);

/// An encoder that writes an 8- or 16-bit gray or RGB PNG row by row to an
/// open file descriptor (which it does not close). A failed write says why
/// in the system's words ("no space left on device"), not libpng's.
typedef struct dae_png_writer dae_png_writer;

/// Starts a PNG of `width` × `height` with 1 or 3 `channels` of `bit_depth`
/// (8, or 16 with samples in host byte order) on `descriptor`.
/// Returns NULL on failure with the reason in `error`.
dae_png_writer *dae_png_writer_open(int descriptor, int width, int height, int channels, int bit_depth,
                                    char *error, size_t error_size);
/// Encodes the next `rows` rows from `buffer`. Returns 0, or -1 (see dae_png_writer_error).
int dae_png_writer_write_rows(dae_png_writer *writer, const unsigned char *buffer, int rows);
/// Writes the end of the PNG and flushes it to the descriptor. Returns 0 or -1.
int dae_png_writer_finish(dae_png_writer *writer);
const char *dae_png_writer_error(const dae_png_writer *writer);
/// Frees the encoder (NULL is allowed); does not close the descriptor.
void dae_png_writer_close(dae_png_writer *writer);

/// How a JPEG's data is cut into scans.
typedef enum {
    DAE_JPEG_BASELINE = 0,        ///< one interleaved sequential scan
    DAE_JPEG_PROGRESSIVE = 1,     ///< libjpeg's standard progression (jpeg_simple_progression)
    DAE_JPEG_COMPONENT_SCANS = 2, ///< sequential, one scan per component
    DAE_JPEG_MANY_SCANS = 3       ///< progressive, one scan per coefficient and bit of precision (hundreds)
} dae_jpeg_scans;

/// Encodes a whole 8-bit gray or RGB image as a JPEG of `quality` (1–100)
/// with the `scans` layout into a buffer that *output receives (free it
/// with dae_jpeg_free). Returns 0, or -1 with the reason in `error`.
int dae_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality, dae_jpeg_scans scans,
                    unsigned char **output, unsigned long *output_size, char *error, size_t error_size);
void dae_jpeg_free(unsigned char *buffer);

#ifdef __cplusplus
}
#endif

#endif
