import DAEFiles
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
/// Hostile input is an error, never a crash: reading goes through
/// ``ImageReader`` (libpng's errors are caught in C, no `longjmp` crosses
/// Swift frames; no ancillary chunk may make libpng allocate more than
/// ``ImageReader/maximumChunkBytes``), and images whose decoded size exceeds
/// ``maximumDecodedBytes`` are refused before their pixels are allocated.
/// Writing uses libpng's simplified API.
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

    /// Reads and decodes the PNG file at `url` (a JPEG is read too: the
    /// format is told from the content; see ``ImageReader``).
    ///
    /// - Throws: ``DAEError/fileUnreadable(path:reason:)`` when the file cannot
    ///   be read or is not a regular file, ``DAEError/corruptFile(path:reason:)``
    ///   when it is not a valid image (the reason is libpng's message),
    ///   including one cut short before its `IEND` chunk.
    public static func read(contentsOf url: URL) throws -> Image {
        try ImageFile.read(contentsOf: url)
    }

    /// Decodes PNG data; `path` only names the data in errors.
    ///
    /// - Throws: ``DAEError/corruptFile(path:reason:)`` for data that is not a
    ///   complete, valid PNG (including one cut short before its `IEND`
    ///   chunk), or decodes to more than ``maximumDecodedBytes``.
    public static func decode(_ data: Data, path: String) throws -> Image {
        let reader = try ImageReader(data: data, path: path)
        guard reader.format == .png else { throw DAEError.corruptFile(path: path, reason: "not a PNG image") }
        return try reader.readImage()
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
}
