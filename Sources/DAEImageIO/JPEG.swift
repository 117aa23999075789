import DAEFiles
import CImageCodecs
import DAELayers
import Foundation

/// JPEG encoding through libjpeg-turbo (decoding is ``ImageReader``'s).
///
/// ```swift
/// let data = try JPEG.encode(image, quality: 90)
/// try JPEG.write(image, to: URL(fileURLWithPath: "photo.jpg"))
/// ```
public enum JPEG {
    /// Encodes an 8-bit gray or RGB image as a baseline JPEG of `quality` (1–100).
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` (path `"(memory)"`) when libjpeg fails
    ///   or a side exceeds JPEG's 65 500 pixels.
    public static func encode(_ image: Image, quality: Int = 90) throws -> Data {
        try encode(image, quality: quality, scans: .baseline)
    }

    /// How the data of an encoded JPEG are cut into scans (tests of the decoder's limits use the others).
    enum Scans {
        /// One interleaved sequential scan.
        case baseline
        /// libjpeg's standard progression (about 10 scans).
        case progressive
        /// Sequential, one scan per component.
        case componentScans
        /// Progressive, one scan per coefficient and bit of precision: 704 for gray, 2112 for colour.
        case manyScans

        var code: dae_jpeg_scans {
            switch self {
            case .baseline: DAE_JPEG_BASELINE
            case .progressive: DAE_JPEG_PROGRESSIVE
            case .componentScans: DAE_JPEG_COMPONENT_SCANS
            case .manyScans: DAE_JPEG_MANY_SCANS
            }
        }
    }

    /// Encodes an 8-bit gray or RGB image as a JPEG of `quality` cut into `scans`.
    static func encode(_ image: Image, quality: Int, scans: Scans) throws -> Data {
        var output: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        let status = image.pixels.withUnsafeBufferPointer {
            dae_jpeg_encode($0.baseAddress, Int32(clamping: image.width), Int32(clamping: image.height), Int32(image.channels),
                            Int32(clamping: quality), scans.code, &output, &size, &message, message.count)
        }
        guard status == 0, let output else { throw DAEError.writeFailed(path: "(memory)", reason: messageText(message)) }
        defer { dae_jpeg_free(output) }
        return Data(bytes: output, count: Int(size))
    }

    /// Encodes `image` and replaces the file at `url` atomically (see `AtomicFile`).
    public static func write(_ image: Image, to url: URL, quality: Int = 90) throws {
        try AtomicFile.write(try encode(image, quality: quality), to: url)
    }
}
