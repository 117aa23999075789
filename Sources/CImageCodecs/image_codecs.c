// Row-by-row PNG/JPEG decoding and PNG encoding (see dae_image_codecs.h).
//
// Every libpng and libjpeg call that can fail runs between a setjmp and the
// library's error handler, inside this file; Swift only sees status codes.
#include "dae_image_codecs.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <jpeglib.h>

static void set_message(char *destination, size_t size, const char *format, ...) {
    if (destination == NULL || size == 0) return;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(destination, size, format, arguments);
    va_end(arguments);
}

// MARK: - Reader state

struct dae_image_reader {
    dae_image_format format;
    FILE *file;
    int width, height, samples;
    int bytes_per_sample;  // 2 for a 16-bit PNG, else 1
    int source_bits;  // bits per sample in the file (8 for JPEG; 1-16 for PNG), before any transform
    int next_row;
    int failed;
    char error[DAE_CODEC_ERROR_SIZE];

    // PNG
    png_structp png;
    png_infop png_info;
    int interlaced;
    unsigned char *whole;  // the decoded image of an interlaced PNG read in parts, after the first read
    png_bytep *row_pointers;  // png_read_image's row list while it runs (freed by close after an error)

    // JPEG
    struct jpeg_decompress_struct jpeg;
    struct jpeg_error_mgr jpeg_errors;
    struct jpeg_progress_mgr jpeg_progress;
    int jpeg_started;       // jpeg_create_decompress ran
    int jpeg_decompressing; // jpeg_start_decompress ran (at the first read)
    int max_scans;
    size_t coefficient_bytes;
    unsigned char exif[65533];  // the first APP1 Exif segment's payload after "Exif\0\0"
    size_t exif_length;
    jmp_buf jump;
};

/// The system's reason for a failed read or write, in lower case for the
/// common cases of a full disk ("no space left on device").
static const char *errno_text(int code) {
    switch (code) {
    case ENOSPC: return "no space left on device";
    case EDQUOT: return "disk quota exceeded";
    case EFBIG: return "file too large";
    case EIO: return "input/output error";
    default: return code != 0 ? strerror(code) : "unknown error";
    }
}

// MARK: - PNG reading

static void png_error_handler(png_structp png, png_const_charp message) {
    dae_image_reader *reader = (dae_image_reader *)png_get_error_ptr(png);
    set_message(reader->error, sizeof reader->error, "%s", message);
    longjmp(reader->jump, 1);
}

static void png_warning_handler(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;  // benign (e.g. an unknown or skipped chunk): ignored
}

static int png_open(dae_image_reader *reader, size_t max_chunk_bytes) {
    reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, png_error_handler, png_warning_handler);
    if (reader->png == NULL) {
        set_message(reader->error, sizeof reader->error, "out of memory creating the PNG decoder");
        return -1;
    }
    reader->png_info = png_create_info_struct(reader->png);
    if (reader->png_info == NULL) {
        set_message(reader->error, sizeof reader->error, "out of memory creating the PNG decoder");
        return -1;
    }
    if (setjmp(reader->jump)) return -1;
    // Bounds on what a hostile file can make libpng allocate before any pixel:
    // one chunk's size, the number of ancillary chunks kept, and the image's sides.
    png_set_chunk_malloc_max(reader->png, max_chunk_bytes);
    png_set_chunk_cache_max(reader->png, 128);
    png_set_user_limits(reader->png, 1000000, 1000000);
    // Text chunks are never used: skipped unread, whatever size they claim.
    static const png_byte skipped[] = {'t', 'E', 'X', 't', 0, 'z', 'T', 'X', 't', 0, 'i', 'T', 'X', 't', 0};
    png_set_keep_unknown_chunks(reader->png, PNG_HANDLE_CHUNK_NEVER, skipped, 3);
    png_set_keep_unknown_chunks(reader->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_init_io(reader->png, reader->file);
    png_read_info(reader->png, reader->png_info);
    reader->source_bits = png_get_bit_depth(reader->png, reader->png_info);

    // 8 bits per sample (palettes and low-bit gray expanded, transparency as
    // alpha), or 16 for a 16-bit file, in host byte order.
    png_set_expand(reader->png);
    if (reader->source_bits == 16) {
        const unsigned short probe = 1;
        if (*(const unsigned char *)&probe == 1) png_set_swap(reader->png);  // PNG is big-endian
    }
    reader->interlaced = png_set_interlace_handling(reader->png) > 1;
    png_read_update_info(reader->png, reader->png_info);
    reader->width = (int)png_get_image_width(reader->png, reader->png_info);
    reader->height = (int)png_get_image_height(reader->png, reader->png_info);
    reader->samples = png_get_channels(reader->png, reader->png_info);
    const int depth = png_get_bit_depth(reader->png, reader->png_info);
    reader->bytes_per_sample = depth / 8;
    if ((depth != 8 && depth != 16) || reader->samples < 1 || reader->samples > 4) {
        set_message(reader->error, sizeof reader->error, "unsupported PNG sample layout");
        return -1;
    }
    return 0;
}

static int png_read_some(dae_image_reader *reader, unsigned char *buffer, int rows) {
    const size_t stride = (size_t)reader->width * (size_t)reader->samples * (size_t)reader->bytes_per_sample;
    if (setjmp(reader->jump)) return -1;
    if (reader->interlaced && reader->next_row == 0 && rows == reader->height) {
        // All rows at once: decoded straight into the caller's buffer, no copy of our own.
        reader->row_pointers = malloc(sizeof(png_bytep) * (size_t)reader->height);
        if (reader->row_pointers == NULL) {
            set_message(reader->error, sizeof reader->error, "out of memory decoding an interlaced PNG");
            return -1;
        }
        for (int y = 0; y < reader->height; y++) reader->row_pointers[y] = buffer + stride * (size_t)y;
        png_read_image(reader->png, reader->row_pointers);
        free(reader->row_pointers);
        reader->row_pointers = NULL;
    } else if (reader->interlaced) {
        if (reader->whole == NULL) {
            // Interlaced rows come in seven passes over the whole image: decode it all once.
            reader->whole = malloc(stride * (size_t)reader->height);
            reader->row_pointers = malloc(sizeof(png_bytep) * (size_t)reader->height);
            if (reader->whole == NULL || reader->row_pointers == NULL) {
                set_message(reader->error, sizeof reader->error, "out of memory decoding an interlaced PNG");
                return -1;
            }
            for (int y = 0; y < reader->height; y++) reader->row_pointers[y] = reader->whole + stride * (size_t)y;
            png_read_image(reader->png, reader->row_pointers);
            free(reader->row_pointers);
            reader->row_pointers = NULL;
        }
        memcpy(buffer, reader->whole + stride * (size_t)reader->next_row, stride * (size_t)rows);
    } else {
        for (int y = 0; y < rows; y++) png_read_row(reader->png, buffer + stride * (size_t)y, NULL);
    }
    if (reader->next_row + rows == reader->height) {
        png_read_end(reader->png, NULL);  // the chunks after the pixels, up to IEND (a cut file fails here)
    }
    return 0;
}

// MARK: - JPEG reading

static void jpeg_error_exit(j_common_ptr common) {
    dae_image_reader *reader = (dae_image_reader *)common->client_data;
    char message[JMSG_LENGTH_MAX];
    (*common->err->format_message)(common, message);
    set_message(reader->error, sizeof reader->error, "%s", message);
    longjmp(reader->jump, 1);
}

static void jpeg_emit_message(j_common_ptr common, int level) {
    // A warning (level -1) means corrupt data that libjpeg would paper over,
    // e.g. a premature end of file filled with gray: an error here.
    if (level < 0) jpeg_error_exit(common);
}

static void jpeg_fail(j_decompress_ptr jpeg, const char *message) {
    dae_image_reader *reader = (dae_image_reader *)jpeg->client_data;
    set_message(reader->error, sizeof reader->error, "%s", message);
    longjmp(reader->jump, 1);
}

// Called by libjpeg while it absorbs the scans of a multi-scan file: the
// scan limit (as libjpeg-turbo's TJPARAM_SCANLIMIT), so that thousands of
// scans, each a pass over the whole coefficient buffer, cannot take minutes.
static void jpeg_progress_monitor(j_common_ptr common) {
    if (!common->is_decompressor) return;
    j_decompress_ptr jpeg = (j_decompress_ptr)common;
    dae_image_reader *reader = (dae_image_reader *)jpeg->client_data;
    if (jpeg->input_scan_number > reader->max_scans) {
        char message[DAE_CODEC_ERROR_SIZE];
        snprintf(message, sizeof message, "the JPEG has more than %d scans (a progressive file needs about 10)", reader->max_scans);
        jpeg_fail(jpeg, message);
    }
}

// One byte of the JPEG stream (the stdio source never suspends: at the end
// of the file it inserts an EOI with a warning, which is an error here).
static int jpeg_next_byte(j_decompress_ptr jpeg) {
    struct jpeg_source_mgr *source = jpeg->src;
    if (source->bytes_in_buffer == 0 && !(*source->fill_input_buffer)(jpeg)) jpeg_fail(jpeg, "the JPEG data end in a marker");
    source->bytes_in_buffer--;
    return *source->next_input_byte++;
}

// APP1 markers: the first Exif one is kept (bounded by its 16-bit length),
// every other is skipped unread, so no number of them allocates anything.
static boolean jpeg_read_app1(j_decompress_ptr jpeg) {
    dae_image_reader *reader = (dae_image_reader *)jpeg->client_data;
    long length = (long)jpeg_next_byte(jpeg) << 8;
    length += jpeg_next_byte(jpeg);
    length -= 2;
    if (length < 0) jpeg_fail(jpeg, "an APP1 marker has a length below 2");
    static const unsigned char identifier[6] = {'E', 'x', 'i', 'f', 0, 0};
    if (reader->exif_length == 0 && length > 6) {
        unsigned char head[6];
        for (int i = 0; i < 6; i++) head[i] = (unsigned char)jpeg_next_byte(jpeg);
        length -= 6;
        if (memcmp(head, identifier, 6) == 0) {
            for (long i = 0; i < length; i++) reader->exif[i] = (unsigned char)jpeg_next_byte(jpeg);
            reader->exif_length = (size_t)length;
            return TRUE;
        }
    }
    if (length > 0) (*jpeg->src->skip_input_data)(jpeg, length);
    return TRUE;
}

static int jpeg_open(dae_image_reader *reader, const dae_image_limits *limits) {
    reader->jpeg.err = jpeg_std_error(&reader->jpeg_errors);
    reader->jpeg_errors.error_exit = jpeg_error_exit;
    reader->jpeg_errors.emit_message = jpeg_emit_message;
    reader->jpeg.client_data = reader;
    reader->bytes_per_sample = 1;
    reader->max_scans = limits->max_scans > 0 ? limits->max_scans : 1;
    if (setjmp(reader->jump)) return -1;
    jpeg_create_decompress(&reader->jpeg);
    reader->jpeg_started = 1;
    if (limits->max_decoder_bytes > 0) reader->jpeg.mem->max_memory_to_use = (long)limits->max_decoder_bytes;
    reader->jpeg_progress.progress_monitor = jpeg_progress_monitor;
    reader->jpeg.progress = &reader->jpeg_progress;
    jpeg_set_marker_processor(&reader->jpeg, JPEG_APP0 + 1, jpeg_read_app1);
    jpeg_stdio_src(&reader->jpeg, reader->file);
    jpeg_read_header(&reader->jpeg, TRUE);
    switch (reader->jpeg.jpeg_color_space) {
    case JCS_GRAYSCALE:
        reader->jpeg.out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        set_message(reader->error, sizeof reader->error, "CMYK JPEG images are not supported; convert to RGB");
        return -1;
    default:
        reader->jpeg.out_color_space = JCS_RGB;
    }
    // The header only: the sizes, and what decompression will allocate.
    // Decompression itself starts at the first read (jpeg_read_some), so that
    // listing a folder never absorbs a progressive file's scans.
    jpeg_calc_output_dimensions(&reader->jpeg);
    reader->width = (int)reader->jpeg.output_width;
    reader->height = (int)reader->jpeg.output_height;
    reader->samples = reader->jpeg.output_components;
    if (jpeg_has_multiple_scans(&reader->jpeg)) {
        // As jdcoefct.c requests it: every component's blocks, rounded up to its sampling factors.
        size_t bytes = 0;
        for (int c = 0; c < reader->jpeg.num_components; c++) {
            const jpeg_component_info *component = &reader->jpeg.comp_info[c];
            size_t across = component->width_in_blocks, down = component->height_in_blocks;
            size_t h = (size_t)component->h_samp_factor, v = (size_t)component->v_samp_factor;
            if (h > 0) across = (across + h - 1) / h * h;
            if (v > 0) down = (down + v - 1) / v * v;
            bytes += across * down * sizeof(JBLOCK);
        }
        reader->coefficient_bytes = bytes;
    }
    return 0;
}

static int jpeg_read_some(dae_image_reader *reader, unsigned char *buffer, int rows) {
    const size_t stride = (size_t)reader->width * (size_t)reader->samples;
    if (setjmp(reader->jump)) return -1;
    if (!reader->jpeg_decompressing) {
        reader->jpeg_decompressing = 1;
        jpeg_start_decompress(&reader->jpeg);
        if ((int)reader->jpeg.output_width != reader->width || (int)reader->jpeg.output_height != reader->height
            || reader->jpeg.output_components != reader->samples) {
            set_message(reader->error, sizeof reader->error, "the JPEG's size changed when decompression started");
            return -1;
        }
    }
    int done = 0;
    while (done < rows) {
        JSAMPROW row = buffer + stride * (size_t)done;
        JDIMENSION got = jpeg_read_scanlines(&reader->jpeg, &row, 1);
        if (got != 1) {
            set_message(reader->error, sizeof reader->error, "the JPEG data end before its last row");
            return -1;
        }
        done++;
    }
    if (reader->next_row + rows == reader->height) jpeg_finish_decompress(&reader->jpeg);
    return 0;
}

// MARK: - Reader interface

// Recognises the format, reads the header; frees the reader and returns NULL on failure.
static dae_image_reader *open_stream(dae_image_reader *reader, const dae_image_limits *limits, char *error, size_t error_size) {
    unsigned char signature[8] = {0};
    size_t got = fread(signature, 1, sizeof signature, reader->file);
    rewind(reader->file);
    int status;
    if (got == 8 && png_sig_cmp(signature, 0, 8) == 0) {
        reader->format = DAE_IMAGE_PNG;
        status = png_open(reader, limits->max_chunk_bytes);
    } else if (got >= 3 && signature[0] == 0xFF && signature[1] == 0xD8 && signature[2] == 0xFF) {
        reader->format = DAE_IMAGE_JPEG;
        status = jpeg_open(reader, limits);
    } else {
        set_message(reader->error, sizeof reader->error,
                    got == 0 ? "empty file" : "not a PNG or JPEG image (unknown signature)");
        status = -1;
    }
    if (status == 0 && (reader->width <= 0 || reader->height <= 0)) {
        set_message(reader->error, sizeof reader->error, "the image has no pixels");
        status = -1;
    }
    if (status != 0) {
        set_message(error, error_size, "%s", reader->error[0] ? reader->error : "cannot decode the image");
        dae_image_reader_close(reader);
        return NULL;
    }
    return reader;
}

dae_image_reader *dae_image_reader_open_descriptor(int descriptor, const dae_image_limits *limits, char *error, size_t error_size) {
    dae_image_reader *reader = calloc(1, sizeof *reader);
    if (reader == NULL) {
        close(descriptor);
        set_message(error, error_size, "out of memory");
        return NULL;
    }
    reader->file = fdopen(descriptor, "rb");
    if (reader->file == NULL) {
        set_message(error, error_size, "%s", strerror(errno));
        close(descriptor);
        free(reader);
        return NULL;
    }
    return open_stream(reader, limits, error, error_size);
}

dae_image_reader *dae_image_reader_open_memory(const void *bytes, size_t count, const dae_image_limits *limits,
                                               char *error, size_t error_size) {
    if (count == 0) {
        set_message(error, error_size, "empty file");
        return NULL;
    }
    dae_image_reader *reader = calloc(1, sizeof *reader);
    if (reader == NULL) {
        set_message(error, error_size, "out of memory");
        return NULL;
    }
    reader->file = fmemopen((void *)bytes, count, "rb");
    if (reader->file == NULL) {
        set_message(error, error_size, "%s", strerror(errno));
        free(reader);
        return NULL;
    }
    return open_stream(reader, limits, error, error_size);
}

int dae_image_reader_width(const dae_image_reader *reader) { return reader->width; }
int dae_image_reader_height(const dae_image_reader *reader) { return reader->height; }
int dae_image_reader_samples(const dae_image_reader *reader) { return reader->samples; }
int dae_image_reader_bytes_per_sample(const dae_image_reader *reader) { return reader->bytes_per_sample > 1 ? reader->bytes_per_sample : 1; }
int dae_image_reader_has_multiple_scans(const dae_image_reader *reader) {
    return reader->format == DAE_IMAGE_JPEG && reader->coefficient_bytes > 0;
}
size_t dae_image_reader_coefficient_bytes(const dae_image_reader *reader) { return reader->coefficient_bytes; }
const unsigned char *dae_image_reader_exif(const dae_image_reader *reader, size_t *count) {
    *count = reader->exif_length;
    return reader->exif_length > 0 ? reader->exif : NULL;
}
int dae_image_reader_source_bits(const dae_image_reader *reader) { return reader->source_bits > 0 ? reader->source_bits : 8; }
dae_image_format dae_image_reader_format(const dae_image_reader *reader) { return reader->format; }
int dae_image_reader_needs_whole_image(const dae_image_reader *reader) { return reader->interlaced; }
const char *dae_image_reader_error(const dae_image_reader *reader) { return reader->error; }

int dae_image_reader_read_rows(dae_image_reader *reader, unsigned char *buffer, int rows) {
    if (reader->failed) return -1;
    if (rows < 0 || rows > reader->height - reader->next_row) {
        set_message(reader->error, sizeof reader->error, "asked for rows past the end of the image");
        reader->failed = 1;
        return -1;
    }
    if (rows == 0) return 0;
    int status = reader->format == DAE_IMAGE_PNG ? png_read_some(reader, buffer, rows)
                                                 : jpeg_read_some(reader, buffer, rows);
    if (status != 0) {
        reader->failed = 1;
        return -1;
    }
    reader->next_row += rows;
    return 0;
}

void dae_image_reader_close(dae_image_reader *reader) {
    if (reader == NULL) return;
    if (reader->png != NULL) png_destroy_read_struct(&reader->png, &reader->png_info, NULL);
    if (reader->jpeg_started) jpeg_destroy_decompress(&reader->jpeg);
    free(reader->whole);
    free(reader->row_pointers);
    if (reader->file != NULL) fclose(reader->file);
    free(reader);
}

// MARK: - PNG writing

/// The zlib level of the PNGs written (see dae_png_writer_open).
#define DAE_PNG_COMPRESSION_LEVEL 4

struct dae_png_writer {
    FILE *file;
    png_structp png;
    png_infop info;
    int width, channels, bytes_per_sample;
    int failed;
    int write_errno;  // errno of the failed fwrite/fflush, reported instead of libpng's "Write Error"
    char error[DAE_CODEC_ERROR_SIZE];
    jmp_buf jump;
};

static void png_write_error_handler(png_structp png, png_const_charp message) {
    dae_png_writer *writer = (dae_png_writer *)png_get_error_ptr(png);
    if (writer->write_errno != 0) {
        set_message(writer->error, sizeof writer->error, "%s", errno_text(writer->write_errno));
    } else {
        set_message(writer->error, sizeof writer->error, "%s", message);
    }
    longjmp(writer->jump, 1);
}

// libpng's own stdio writer says only "Write Error": keep errno to say why.
static void png_write_data(png_structp png, png_bytep data, size_t length) {
    dae_png_writer *writer = (dae_png_writer *)png_get_io_ptr(png);
    errno = 0;
    if (fwrite(data, 1, length, writer->file) != length) {
        writer->write_errno = errno != 0 ? errno : EIO;
        png_error(png, "Write Error");
    }
}

static void png_flush_data(png_structp png) {
    dae_png_writer *writer = (dae_png_writer *)png_get_io_ptr(png);
    errno = 0;
    if (fflush(writer->file) != 0) {
        writer->write_errno = errno != 0 ? errno : EIO;
        png_error(png, "Write Error");
    }
}

dae_png_writer *dae_png_writer_open(int descriptor, int width, int height, int channels, int bit_depth,
                                    char *error, size_t error_size) {
    if (width <= 0 || height <= 0 || (channels != 1 && channels != 3) || (bit_depth != 8 && bit_depth != 16)) {
        set_message(error, error_size, "a PNG is written with positive sides, 1 or 3 channels and 8 or 16 bits");
        return NULL;
    }
    dae_png_writer *writer = calloc(1, sizeof *writer);
    if (writer == NULL) {
        set_message(error, error_size, "out of memory");
        return NULL;
    }
    writer->width = width;
    writer->channels = channels;
    writer->bytes_per_sample = bit_depth / 8;
    int copy = dup(descriptor);
    writer->file = copy >= 0 ? fdopen(copy, "wb") : NULL;
    if (writer->file == NULL) {
        set_message(error, error_size, "%s", strerror(errno));
        if (copy >= 0) close(copy);
        free(writer);
        return NULL;
    }
    writer->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, writer, png_write_error_handler, png_warning_handler);
    writer->info = writer->png ? png_create_info_struct(writer->png) : NULL;
    if (writer->info == NULL) {
        set_message(error, error_size, "out of memory creating the PNG encoder");
        dae_png_writer_close(writer);
        return NULL;
    }
    if (setjmp(writer->jump)) {
        set_message(error, error_size, "%s", writer->error);
        dae_png_writer_close(writer);
        return NULL;
    }
    png_set_write_fn(writer->png, writer, png_write_data, png_flush_data);
    // zlib level 4 (libpng's default is 6): on denoised photographs about half
    // the encoder's CPU for files 0.3–6% larger (levels 1–3 were faster still
    // but 8–22% larger; Docs/Benchmarks.md, "The Winograd transforms in C").
    // The encoder runs between bands, while the cores wait.
    png_set_compression_level(writer->png, DAE_PNG_COMPRESSION_LEVEL);
    png_set_IHDR(writer->png, writer->info, (png_uint_32)width, (png_uint_32)height, bit_depth,
                 channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(writer->png, writer->info);
    if (bit_depth == 16) {
        const unsigned short probe = 1;
        if (*(const unsigned char *)&probe == 1) png_set_swap(writer->png);  // host order in, big-endian out
    }
    return writer;
}

int dae_png_writer_write_rows(dae_png_writer *writer, const unsigned char *buffer, int rows) {
    if (writer->failed) return -1;
    const size_t stride = (size_t)writer->width * (size_t)writer->channels * (size_t)writer->bytes_per_sample;
    if (setjmp(writer->jump)) {
        writer->failed = 1;
        return -1;
    }
    for (int y = 0; y < rows; y++) png_write_row(writer->png, (png_const_bytep)(buffer + stride * (size_t)y));
    return 0;
}

int dae_png_writer_finish(dae_png_writer *writer) {
    if (writer->failed) return -1;
    if (setjmp(writer->jump)) {
        writer->failed = 1;
        return -1;
    }
    png_write_end(writer->png, NULL);
    errno = 0;
    if (fflush(writer->file) != 0) {
        set_message(writer->error, sizeof writer->error, "%s", errno_text(errno != 0 ? errno : EIO));
        writer->failed = 1;
        return -1;
    }
    return 0;
}

const char *dae_png_writer_error(const dae_png_writer *writer) { return writer->error; }

void dae_png_writer_close(dae_png_writer *writer) {
    if (writer == NULL) return;
    if (writer->png != NULL) png_destroy_write_struct(&writer->png, &writer->info);
    if (writer->file != NULL) fclose(writer->file);
    free(writer);
}

// MARK: - JPEG writing

struct jpeg_encoder_errors {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char message[DAE_CODEC_ERROR_SIZE];
};

static void jpeg_encoder_error_exit(j_common_ptr common) {
    struct jpeg_encoder_errors *errors = (struct jpeg_encoder_errors *)common->err;
    char message[JMSG_LENGTH_MAX];
    (*common->err->format_message)(common, message);
    set_message(errors->message, sizeof errors->message, "%s", message);
    longjmp(errors->jump, 1);
}

// One progressive scan per coefficient and bit: each coefficient k of each
// component first at 1/1024 precision (Al 10), then refined bit by bit.
static void set_many_scans(j_compress_ptr jpeg, jpeg_scan_info *scans, int *count) {
    int n = 0;
    for (int c = 0; c < jpeg->num_components; c++) {
        for (int k = 0; k < 64; k++) {
            for (int al = 10; al >= 0; al--) {
                scans[n].comps_in_scan = 1;
                scans[n].component_index[0] = c;
                scans[n].Ss = k;
                scans[n].Se = k;
                scans[n].Ah = al == 10 ? 0 : al + 1;
                scans[n].Al = al;
                n++;
            }
        }
    }
    *count = n;
}

int dae_jpeg_encode(const unsigned char *pixels, int width, int height, int channels, int quality, dae_jpeg_scans scans,
                    unsigned char **output, unsigned long *output_size, char *error, size_t error_size) {
    *output = NULL;
    *output_size = 0;
    if (width <= 0 || height <= 0 || width > 65500 || height > 65500 || (channels != 1 && channels != 3)) {
        set_message(error, error_size, "a JPEG has sides of 1 to 65500 pixels and 1 or 3 channels");
        return -1;
    }
    struct jpeg_compress_struct jpeg;
    struct jpeg_encoder_errors errors;
    memset(&errors, 0, sizeof errors);
    jpeg.err = jpeg_std_error(&errors.manager);
    errors.manager.error_exit = jpeg_encoder_error_exit;
    unsigned char *volatile buffer = NULL;
    unsigned long size = 0;
    if (setjmp(errors.jump)) {
        jpeg_destroy_compress(&jpeg);
        free(buffer);
        set_message(error, error_size, "%s", errors.message);
        return -1;
    }
    jpeg_create_compress(&jpeg);
    unsigned char *destination = NULL;
    jpeg_mem_dest(&jpeg, &destination, &size);
    buffer = destination;
    jpeg.image_width = (JDIMENSION)width;
    jpeg.image_height = (JDIMENSION)height;
    jpeg.input_components = channels;
    jpeg.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&jpeg);
    jpeg_set_quality(&jpeg, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    jpeg_scan_info *script = NULL;  // freed with the compressor (a libjpeg pool)
    switch (scans) {
    case DAE_JPEG_PROGRESSIVE:
        jpeg_simple_progression(&jpeg);
        break;
    case DAE_JPEG_COMPONENT_SCANS:
        script = (*jpeg.mem->alloc_small)((j_common_ptr)&jpeg, JPOOL_PERMANENT, 3 * sizeof(jpeg_scan_info));
        for (int c = 0; c < channels; c++) {
            script[c] = (jpeg_scan_info){.comps_in_scan = 1, .component_index = {c}, .Ss = 0, .Se = 63, .Ah = 0, .Al = 0};
        }
        jpeg.scan_info = script;
        jpeg.num_scans = channels;
        break;
    case DAE_JPEG_MANY_SCANS:
        jpeg.progressive_mode = TRUE;
        script = (*jpeg.mem->alloc_small)((j_common_ptr)&jpeg, JPOOL_PERMANENT, 3 * 64 * 11 * sizeof(jpeg_scan_info));
        set_many_scans(&jpeg, script, &jpeg.num_scans);
        jpeg.scan_info = script;
        break;
    default:
        break;
    }
    jpeg_start_compress(&jpeg, TRUE);
    const size_t stride = (size_t)width * (size_t)channels;
    while (jpeg.next_scanline < jpeg.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * jpeg.next_scanline);
        jpeg_write_scanlines(&jpeg, &row, 1);
    }
    jpeg_finish_compress(&jpeg);
    *output = destination;
    *output_size = size;
    jpeg_destroy_compress(&jpeg);
    return 0;
}

void dae_jpeg_free(unsigned char *buffer) { free(buffer); }
