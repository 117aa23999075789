import CPNG
import DAELayers
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading and writing PNG files through libpng's simplified API.
///
/// - Reading accepts every PNG libpng accepts: 1–16-bit gray, gray+alpha,
///   RGB, RGBA and palette images. 16-bit samples are reduced to 8 bits
///   (taken as sRGB-encoded when the file has no gamma information) and
///   palettes are expanded. An alpha channel is removed by compositing the
///   image over black, `value · alpha / 255` rounded, so a transparent
///   background becomes 0, the background of MNIST-style data. Gray files
///   stay gray, colour files become RGB.
/// - Writing produces an 8-bit gray or RGB PNG, and replaces the target file
///   atomically: the data go to a temporary file in the same directory, are
///   flushed to disk, and the temporary file is renamed over the target.
///
/// Hostile input is an error, never a crash: libpng's simplified API catches
/// its own errors internally (no `longjmp` crosses Swift frames), and images
/// whose decoded size exceeds ``maximumDecodedBytes`` are refused.
///
/// ```swift
/// let image = try PNG.read(contentsOf: URL(fileURLWithPath: "digit.png"))
/// try PNG.write(image, to: URL(fileURLWithPath: "copy.png"))
/// ```
public enum PNG {
    /// The largest decoded image, in bytes (width × height × samples), that
    /// ``decode(_:path:)`` accepts, and the largest file ``read(contentsOf:)``
    /// reads: 1 GiB.
    public static let maximumDecodedBytes = 1 << 30

    /// Reads and decodes the PNG file at `url`.
    ///
    /// - Throws: ``DAEError/fileUnreadable(path:reason:)`` when the file cannot
    ///   be read, ``DAEError/corruptFile(path:reason:)`` when it is not a
    ///   valid PNG (the reason is libpng's message).
    public static func read(contentsOf url: URL) throws -> Image {
        try decode(FileIO.contents(of: url), path: url.path)
    }

    /// Decodes PNG data; `path` only names the data in errors.
    ///
    /// - Throws: ``DAEError/corruptFile(path:reason:)`` for data that is not a
    ///   complete, valid PNG (including one cut short before its `IEND`
    ///   chunk), or decodes to more than ``maximumDecodedBytes``.
    public static func decode(_ data: Data, path: String) throws -> Image {
        let image = try decodePixels(data, path: path)
        // libpng stops after the image data; a file cut after them is still truncated.
        guard data.range(of: endChunk, options: .backwards) != nil else {
            throw DAEError.corruptFile(path: path, reason: "no IEND chunk: the file is truncated")
        }
        return image
    }

    /// The complete `IEND` chunk that ends every PNG: length 0, type, CRC.
    private static let endChunk = Data([0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])

    private static func decodePixels(_ data: Data, path: String) throws -> Image {
        var control = newControl()
        defer { png_image_free(&control) }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Image in
            guard let base = raw.baseAddress, !raw.isEmpty else {
                throw DAEError.corruptFile(path: path, reason: "empty file")
            }
            guard png_image_begin_read_from_memory(&control, base, raw.count) != 0 else {
                throw DAEError.corruptFile(path: path, reason: message(of: control))
            }
            let isColor = control.format & PNG_FORMAT_FLAG_COLOR != 0
            let hasAlpha = control.format & PNG_FORMAT_FLAG_ALPHA != 0
            // 8-bit samples, no palette, keeping colour and alpha as they are.
            control.format = (isColor ? PNG_FORMAT_FLAG_COLOR : 0) | (hasAlpha ? PNG_FORMAT_FLAG_ALPHA : 0)
            control.flags |= png_uint_32(PNG_IMAGE_FLAG_16BIT_sRGB)
            let width = Int(control.width), height = Int(control.height)
            let samples = (isColor ? 3 : 1) + (hasAlpha ? 1 : 0)
            let (bytes, overflow) = (width * samples).multipliedReportingOverflow(by: height)
            guard !overflow, bytes <= maximumDecodedBytes, width * samples <= Int(Int32.max) else {
                throw DAEError.corruptFile(
                    path: path, reason: "image of \(width)x\(height) pixels is larger than \(maximumDecodedBytes) bytes")
            }
            var buffer = [UInt8](repeating: 0, count: bytes)
            let ok = buffer.withUnsafeMutableBytes {
                png_image_finish_read(&control, nil, $0.baseAddress, png_int_32(width * samples), nil)
            }
            guard ok != 0 else {
                throw DAEError.corruptFile(path: path, reason: message(of: control))
            }
            let pixels = hasAlpha ? flattenAlpha(buffer, samples: samples) : buffer
            return try Image(width: width, height: height, channels: isColor ? 3 : 1, pixels: pixels)
        }
    }

    /// Encodes an image as an 8-bit gray or RGB PNG.
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` (path `"(memory)"`)
    ///   when libpng fails or the image is too large for PNG.
    public static func encode(_ image: Image) throws -> Data {
        try encode(image, path: "(memory)")
    }

    /// Encodes `image` and replaces the file at `url` with it atomically
    /// (through ``AtomicFile/write(_:to:)``: temporary file in the same
    /// directory, fsync, rename).
    ///
    /// On any failure the previous file, if any, is untouched and no
    /// temporary file remains.
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` naming `url`'s path.
    public static func write(_ image: Image, to url: URL) throws {
        let data = try encode(image, path: url.path)
        try AtomicFile.write(data, to: url)
    }

    // MARK: - Internals

    private static func encode(_ image: Image, path: String) throws -> Data {
        let rowBytes = image.width * image.channels
        guard image.width <= Int(Int32.max), image.height <= Int(Int32.max), rowBytes <= Int(Int32.max) else {
            throw DAEError.writeFailed(path: path, reason: "image of \(image.width)x\(image.height) is too large for PNG")
        }
        // A bound libpng never exceeds (png.h's PNG_IMAGE_PNG_SIZE_MAX), with room to spare.
        let filtered = image.pixels.count + image.height
        var capacity = filtered + filtered / 8 + filtered / 64 + 12 * (filtered / 8192 + 1) + 1024
        for _ in 0..<2 {
            var control = newControl()
            defer { png_image_free(&control) }
            control.width = png_uint_32(image.width)
            control.height = png_uint_32(image.height)
            control.format = image.channels == 3 ? PNG_FORMAT_FLAG_COLOR : 0
            var output = Data(count: capacity)
            var size = png_alloc_size_t(capacity)
            let ok = output.withUnsafeMutableBytes { out in
                image.pixels.withUnsafeBytes { pixels in
                    png_image_write_to_memory(
                        &control, out.baseAddress, &size, 0, pixels.baseAddress, png_int_32(rowBytes), nil)
                }
            }
            if ok != 0 { return output.prefix(Int(size)) }
            guard Int(size) > capacity else {
                throw DAEError.writeFailed(path: path, reason: message(of: control))
            }
            capacity = Int(size)  // too small after all: libpng said how much it needs
        }
        throw DAEError.writeFailed(path: path, reason: "libpng kept asking for a larger buffer")
    }

    /// A zeroed control structure with the API version set (the
    /// `PNG_IMAGE_VERSION` macro is 1).
    private static func newControl() -> png_image {
        var control = png_image()
        control.version = 1
        return control
    }

    /// libpng's message (a NUL-terminated `char[64]`) after a failure.
    private static func message(of control: png_image) -> String {
        let text = withUnsafeBytes(of: control.message) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "libpng failed without a message" : text
    }

    /// Composites interleaved gray+alpha or RGBA samples over black.
    private static func flattenAlpha(_ samples: [UInt8], samples stride: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(samples.count / stride * (stride - 1))
        var i = 0
        while i < samples.count {
            let alpha = UInt32(samples[i + stride - 1])
            for c in 0..<(stride - 1) {
                out.append(UInt8((UInt32(samples[i + c]) * alpha + 127) / 255))
            }
            i += stride
        }
        return out
    }
}

/// Whole-file reads with POSIX calls, so every failure carries the
/// system's own reason (`strerror`).
private enum FileIO {
    /// The contents of the file at `url`.
    static func contents(of url: URL) throws -> Data {
        let path = url.path
        func failure() -> DAEError {
            DAEError.fileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure() }
        defer { close(fd) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return data }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure()
            }
            data.append(contentsOf: chunk[0..<count])
            guard data.count <= PNG.maximumDecodedBytes else {  // e.g. /dev/zero
                throw DAEError.fileUnreadable(path: path, reason: "larger than \(PNG.maximumDecodedBytes) bytes")
            }
        }
    }
}
