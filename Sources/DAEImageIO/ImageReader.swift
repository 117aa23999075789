import DAEFiles
import CImageCodecs
import DAELayers
import Foundation

/// Decodes a PNG or JPEG file row by row, top to bottom, so that an image
/// of any height can be processed in memory proportional to its width.
///
/// The format is told from the file's first bytes, not its name. PNG goes
/// through libpng (every bit depth, palette, gray, RGB, with or without
/// alpha; interlaced files are decoded whole on the first read, since their
/// rows arrive in seven passes), JPEG through libjpeg-turbo (gray and
/// YCbCr; CMYK is refused). Corrupt or truncated data, including the
/// damage libjpeg would only warn about, is a thrown error: every
/// `longjmp` of the C libraries stays inside the C shim.
///
/// Rows come out converted to 1 (gray) or 3 (RGB) channels: alpha is
/// composited over black, RGB becomes gray by BT.601 luma, gray becomes RGB
/// by repetition (see ``PixelConversion``).
///
/// ```swift
/// let reader = try ImageReader(contentsOf: URL(fileURLWithPath: "scan.jpg"))
/// var band = [UInt8](repeating: 0, count: 16 * reader.width * 3)
/// try reader.readRows(16, channels: 3, into: &band)      // the first 16 rows, RGB
/// ```
public final class ImageReader {
    /// The file's formats.
    public enum Format: String, Sendable { case png = "PNG", jpeg = "JPEG" }

    /// The path, for messages.
    public let path: String
    /// The image's number of columns.
    public let width: Int
    /// The image's number of rows.
    public let height: Int
    /// 1 for a gray file, 3 for a colour one (whatever alpha it has).
    public let channels: Int
    /// PNG or JPEG.
    public let format: Format
    /// Bits per sample in the file (16 for a 16-bit PNG, 8 for JPEG). Rows
    /// are always read as 8 bits: a 16-bit image loses its low byte.
    public let sourceBitDepth: Int
    /// Rows read so far.
    public private(set) var rowsRead = 0

    /// The largest single ancillary PNG chunk libpng may allocate (8 MiB): a
    /// header that claims a 2 GB text chunk is refused, not allocated.
    public static let maximumChunkBytes = 8 << 20

    private let reader: OpaquePointer
    private let samples: Int
    private var samplesRow: [UInt8]
    /// Keeps in-memory data alive while the C reader reads it.
    private let memory: UnsafeMutableRawBufferPointer?

    /// Opens the file at `url` and reads its header.
    ///
    /// - Throws: ``DAEError/fileUnreadable(path:reason:)`` when it cannot be
    ///   opened or is not a regular file, ``DAEError/corruptFile(path:reason:)``
    ///   when it is not a PNG or JPEG or its header is malformed.
    public convenience init(contentsOf url: URL) throws {
        let descriptor = try RegularFile.openForReading(url)  // a FIFO or device is refused here
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        guard let reader = dae_image_reader_open_descriptor(descriptor, ImageReader.maximumChunkBytes, &message, message.count) else {
            throw DAEError.corruptFile(path: url.path, reason: messageText(message))
        }
        self.init(reader, path: url.path, memory: nil)
    }

    /// Opens PNG or JPEG data held in memory; `path` only names it in errors.
    ///
    /// - Throws: ``DAEError/corruptFile(path:reason:)`` for data that is not a valid PNG or JPEG header.
    public convenience init(data: Data, path: String) throws {
        guard !data.isEmpty else { throw DAEError.corruptFile(path: path, reason: "empty file") }
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        _ = data.copyBytes(to: memory)
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        guard let reader = dae_image_reader_open_memory(memory.baseAddress, memory.count, ImageReader.maximumChunkBytes,
                                                        &message, message.count) else {
            memory.deallocate()
            throw DAEError.corruptFile(path: path, reason: messageText(message))
        }
        self.init(reader, path: path, memory: memory)
    }

    private init(_ reader: OpaquePointer, path: String, memory: UnsafeMutableRawBufferPointer?) {
        self.reader = reader
        self.path = path
        self.memory = memory
        width = Int(dae_image_reader_width(reader))
        height = Int(dae_image_reader_height(reader))
        samples = Int(dae_image_reader_samples(reader))
        channels = samples >= 3 ? 3 : 1
        format = dae_image_reader_format(reader) == DAE_IMAGE_JPEG ? .jpeg : .png
        sourceBitDepth = Int(dae_image_reader_source_bits(reader))
        samplesRow = []
    }

    deinit {
        dae_image_reader_close(reader)
        memory?.deallocate()
    }

    /// Whether the whole decoded image must be held at once (an interlaced PNG).
    public var needsWholeImage: Bool { dae_image_reader_needs_whole_image(reader) != 0 }

    /// Decodes the next `count` rows, converted to `channels` (1 or 3), into
    /// `destination` (at least `count · width · channels` bytes, replaced).
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` for rows past the end or a bad
    ///   channel count, ``DAEError/corruptFile(path:reason:)`` for damaged data
    ///   (after which the reader is unusable).
    public func readRows(_ count: Int, channels: Int, into destination: inout [UInt8]) throws {
        guard channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("rows are read as 1 (gray) or 3 (RGB) channels, not \(channels)")
        }
        guard count >= 0, count <= height - rowsRead else {
            throw DAEError.invalidArgument("\(path): cannot read \(count) rows, \(height - rowsRead) are left")
        }
        guard destination.count >= count * width * channels else {
            throw DAEError.invalidArgument("row buffer of \(destination.count) bytes for \(count) rows of \(width)x\(channels)")
        }
        if count == 0 { return }
        let rowSamples = width * samples
        if samplesRow.count < rowSamples * count { samplesRow = [UInt8](repeating: 0, count: rowSamples * count) }
        let status = samplesRow.withUnsafeMutableBufferPointer {
            dae_image_reader_read_rows(reader, $0.baseAddress, Int32(count))
        }
        guard status == 0 else {
            throw DAEError.corruptFile(path: path, reason: String(cString: dae_image_reader_error(reader)))
        }
        rowsRead += count
        samplesRow.withUnsafeBufferPointer { source in
            destination.withUnsafeMutableBufferPointer { target in
                PixelConversion.convert(source.baseAddress!, samples: samples, pixels: count * width,
                                        toChannels: channels, into: target.baseAddress!)
            }
        }
    }

    /// Decodes every remaining row into an ``Image`` of `channels` (1 or 3;
    /// nil keeps the file's own: gray or RGB).
    ///
    /// - Throws: as ``readRows(_:channels:into:)``, and
    ///   ``DAEError/corruptFile(path:reason:)`` when the decoded image would
    ///   exceed `maximumBytes`.
    public func readImage(channels: Int? = nil, maximumBytes: Int = PNG.maximumDecodedBytes) throws -> Image {
        let channels = channels ?? self.channels
        let rows = height - rowsRead
        let (bytes, overflow) = (width * max(samples, channels)).multipliedReportingOverflow(by: rows)
        guard !overflow, bytes <= maximumBytes else {
            throw DAEError.corruptFile(path: path, reason: "image of \(width)x\(height) pixels is larger than \(maximumBytes) bytes")
        }
        var pixels = [UInt8](repeating: 0, count: width * rows * channels)
        try readRows(rows, channels: channels, into: &pixels)
        return try Image(width: width, height: rows, channels: channels, pixels: pixels)
    }
}

/// Reading any supported image file whole.
public enum ImageFile {
    /// The file name extensions read as images (lower case): PNG and JPEG.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Reads and decodes the PNG or JPEG file at `url` (told apart by content)
    /// as gray or RGB, or converted to `channels` when given.
    ///
    /// - Throws: as ``ImageReader/init(contentsOf:)`` and ``ImageReader/readImage(channels:maximumBytes:)``.
    public static func read(contentsOf url: URL, channels: Int? = nil) throws -> Image {
        try ImageReader(contentsOf: url).readImage(channels: channels)
    }
}

/// Conversions between the sample layouts of decoded files and the 1- or
/// 3-channel images the models take.
public enum PixelConversion {
    /// Converts `pixels` pixels of `samples` interleaved 8-bit samples (1 gray,
    /// 2 gray + alpha, 3 RGB, 4 RGBA) to `channels` (1 or 3) at `destination`.
    ///
    /// Alpha is composited over black (`value · alpha / 255`, rounded), RGB
    /// becomes gray by the ITU-R BT.601 luma `0.299 R + 0.587 G + 0.114 B`
    /// (rounded), and gray becomes RGB by repeating the value.
    public static func convert(_ source: UnsafePointer<UInt8>, samples: Int, pixels: Int, toChannels channels: Int,
                               into destination: UnsafeMutablePointer<UInt8>) {
        let colorSamples = samples >= 3 ? 3 : 1
        let hasAlpha = samples == 2 || samples == 4
        var color: (UInt8, UInt8, UInt8) = (0, 0, 0)
        for p in 0..<pixels {
            let s = source + p * samples
            if colorSamples == 3 {
                color = (s[0], s[1], s[2])
            } else {
                color = (s[0], s[0], s[0])
            }
            if hasAlpha {
                let alpha = UInt32(s[samples - 1])
                func over(_ v: UInt8) -> UInt8 { UInt8((UInt32(v) * alpha + 127) / 255) }
                color = (over(color.0), over(color.1), over(color.2))
            }
            let d = destination + p * channels
            if channels == 3 {
                d[0] = color.0
                d[1] = color.1
                d[2] = color.2
            } else if colorSamples == 1 {
                d[0] = color.0
            } else {
                d[0] = luma(color.0, color.1, color.2)
            }
        }
    }

    /// BT.601 luma of an RGB pixel, rounded to the nearest byte.
    @inline(__always)
    public static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let value = 0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)
        return UInt8(min(value.rounded(), 255))
    }
}
