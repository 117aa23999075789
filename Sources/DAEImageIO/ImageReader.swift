import DAEFiles
import CImageCodecs
import DAELayers
import Foundation

/// Decodes a PNG or JPEG file row by row, top to bottom, so that an image
/// of any height can be processed in memory proportional to its width.
/// Only the header is read when it is opened (listing a folder decodes nothing).
///
/// The format is told from the file's first bytes, not its name. PNG goes
/// through libpng (every bit depth, palette, gray, RGB, with or without
/// alpha; interlaced files are decoded whole on the first read, since their
/// rows arrive in seven passes), JPEG through libjpeg-turbo (gray and
/// YCbCr; CMYK is refused; the EXIF orientation is applied, see
/// ``orientation``). Corrupt or truncated data, including the
/// damage libjpeg would only warn about, is a thrown error: every
/// `longjmp` of the C libraries stays inside the C shim. What a file may
/// cost (memory held for the whole image, JPEG scans) is bounded by
/// ``Limits`` and checked from its header.
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
    /// The image's number of columns, as shown (after its ``orientation``).
    public let width: Int
    /// The image's number of rows, as shown (after its ``orientation``).
    public let height: Int
    /// 1 for a gray file, 3 for a colour one (whatever alpha it has).
    public let channels: Int
    /// PNG or JPEG.
    public let format: Format
    /// Bits per sample in the file (16 for a 16-bit PNG, 8 for JPEG). A
    /// 16-bit file keeps its precision when rows are read as `Float`
    /// (`readRows(_:channels:into:)` into a `[Float]` buffer); read as bytes it loses its low byte.
    public let sourceBitDepth: Int
    /// How the stored pixels are turned to be shown: a JPEG's EXIF
    /// `Orientation`, applied to every row read (``ExifOrientation/up`` for PNG).
    public let orientation: ExifOrientation
    /// The bounds this file was checked against when it was opened.
    public let limits: Limits
    /// Rows read so far.
    public private(set) var rowsRead = 0

    /// The largest single ancillary PNG chunk libpng may allocate (8 MiB): a
    /// header that claims a 2 GB text chunk is refused, not allocated.
    public static let maximumChunkBytes = Limits.default.chunkBytes

    private let reader: OpaquePointer
    private let samples: Int
    private let bytesPerSample: Int
    /// The stored image's sides (before the orientation).
    private let storedWidth: Int, storedHeight: Int
    /// Whether rows come from a decoded copy of the whole image (interlaced, or turned top to bottom).
    private let decodesWhole: Bool
    /// The samples of the rows being converted, in the file's layout.
    private var samplesRow: [UInt8] = []
    /// The whole stored image, when ``decodesWhole``, until the last row is read.
    private var whole: [UInt8] = []
    /// Rows narrowed to bytes, for reads as `Float` of an 8-bit file.
    private var byteRows: [UInt8] = []
    /// Keeps in-memory data alive while the C reader reads it.
    private let memory: UnsafeMutableRawBufferPointer?

    /// Opens the file at `url` and reads its header.
    ///
    /// - Throws: ``DAEError/fileUnreadable(path:reason:)`` when it cannot be
    ///   opened or is not a regular file, ``DAEError/corruptFile(path:reason:)``
    ///   when it is not a PNG or JPEG, its header is malformed, or reading it
    ///   would need more than `limits` allow (the reason says what).
    public convenience init(contentsOf url: URL, limits: Limits = .default) throws {
        try self.init(descriptor: try RegularFile.openForReading(url), path: url.path, limits: limits)  // a FIFO or device is refused there
    }

    /// Reads the header of the image open on `descriptor` (a regular file's;
    /// the reader owns and closes it); `path` names it in errors.
    convenience init(descriptor: Int32, path: String, limits: Limits) throws {
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        var codecLimits = Self.codecLimits(limits)
        guard let reader = dae_image_reader_open_descriptor(descriptor, &codecLimits, &message, message.count) else {
            throw DAEError.corruptFile(path: path, reason: messageText(message))
        }
        try self.init(reader, path: path, memory: nil, limits: limits)
    }

    /// Opens PNG or JPEG data held in memory; `path` only names it in errors.
    ///
    /// - Throws: ``DAEError/corruptFile(path:reason:)`` for data that is not a
    ///   valid PNG or JPEG header, or that would need more than `limits` allow.
    public convenience init(data: Data, path: String, limits: Limits = .default) throws {
        guard !data.isEmpty else { throw DAEError.corruptFile(path: path, reason: "empty file") }
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        _ = data.copyBytes(to: memory)
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        var codecLimits = Self.codecLimits(limits)
        guard let reader = dae_image_reader_open_memory(memory.baseAddress, memory.count, &codecLimits,
                                                        &message, message.count) else {
            memory.deallocate()
            throw DAEError.corruptFile(path: path, reason: messageText(message))
        }
        try self.init(reader, path: path, memory: memory, limits: limits)
    }

    private static func codecLimits(_ limits: Limits) -> dae_image_limits {
        // libjpeg's own ceiling sits above the budget checked here, so that it only
        // catches what this check cannot see (its other buffers count against it too).
        dae_image_limits(max_chunk_bytes: max(0, limits.chunkBytes), max_scans: Int32(clamping: max(1, limits.maximumScans)),
                         max_decoder_bytes: max(0, limits.wholeImageBytes).addingReportingOverflow(64 << 20).partialValue)
    }

    private init(_ reader: OpaquePointer, path: String, memory: UnsafeMutableRawBufferPointer?, limits: Limits) throws {
        self.reader = reader
        self.path = path
        self.memory = memory
        self.limits = limits
        storedWidth = Int(dae_image_reader_width(reader))
        storedHeight = Int(dae_image_reader_height(reader))
        samples = Int(dae_image_reader_samples(reader))
        bytesPerSample = Int(dae_image_reader_bytes_per_sample(reader))
        channels = samples >= 3 ? 3 : 1
        format = dae_image_reader_format(reader) == DAE_IMAGE_JPEG ? .jpeg : .png
        sourceBitDepth = Int(dae_image_reader_source_bits(reader))
        var exifLength = 0
        if let exif = dae_image_reader_exif(reader, &exifLength) {
            orientation = ExifOrientation.parse(tiff: UnsafeRawBufferPointer(start: exif, count: exifLength)) ?? .up
        } else {
            orientation = .up
        }
        (width, height) = orientation.swapsSides ? (storedHeight, storedWidth) : (storedWidth, storedHeight)
        decodesWhole = dae_image_reader_needs_whole_image(reader) != 0 || !orientation.streamsByRows
        try checkBudget()
    }

    deinit {
        dae_image_reader_close(reader)
        memory?.deallocate()
    }

    /// Whether the whole decoded image must be held at once (an interlaced
    /// PNG, or a JPEG whose orientation turns or flips it top to bottom).
    public var needsWholeImage: Bool { decodesWhole }

    /// Bytes the reader holds for the whole image while rows are read: the
    /// decoded image when ``needsWholeImage``, plus a multi-scan JPEG's
    /// coefficients (libjpeg's). Checked against ``Limits/wholeImageBytes`` at opening.
    public var wholeImageBytes: Int {
        let coefficients = Int(clamping: dae_image_reader_coefficient_bytes(reader))
        guard decodesWhole else { return coefficients }
        let (pixels, o1) = storedWidth.multipliedReportingOverflow(by: storedHeight)
        let (bytes, o2) = pixels.multipliedReportingOverflow(by: samples * bytesPerSample)
        let (total, o3) = bytes.addingReportingOverflow(coefficients)
        return o1 || o2 || o3 ? Int.max : total
    }

    private func checkBudget() throws {
        let need = wholeImageBytes
        guard need > limits.wholeImageBytes else { return }
        let mib = { (bytes: Int) in bytes == Int.max ? "more than \(Int.max >> 20)" : String((bytes + (1 << 20) - 1) >> 20) }
        var why: [String] = []
        if dae_image_reader_has_multiple_scans(reader) != 0 { why.append("it is a progressive (multi-scan) JPEG, decoded from a buffer of all its coefficients") }
        if dae_image_reader_needs_whole_image(reader) != 0 { why.append("it is an interlaced PNG, decoded whole") }
        if !orientation.streamsByRows { why.append("its EXIF orientation (\(orientation.rawValue)) turns it, so it is decoded whole") }
        throw DAEError.corruptFile(path: path, reason: "an image of \(width)x\(height) pixels needs \(mib(need)) MiB held at once "
            + "(\(why.joined(separator: "; "))), more than the \(mib(limits.wholeImageBytes)) MiB allowed")
    }

    /// Decodes the next `count` rows, converted to `channels` (1 or 3), into
    /// `destination` (at least `count · width · channels` bytes, replaced).
    /// A 16-bit file's samples are rounded to 8 bits.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` for rows past the end or a bad
    ///   channel count, ``DAEError/corruptFile(path:reason:)`` for damaged data
    ///   (after which the reader is unusable).
    public func readRows(_ count: Int, channels: Int, into destination: inout [UInt8]) throws {
        try checkRead(count, channels: channels, available: destination.count)
        if count == 0 { return }
        try fetchStoredRows(count)
        let pixels = count * width
        samplesRow.withUnsafeMutableBufferPointer { source in
            if bytesPerSample == 2 { SampleConversion.narrow(source.baseAddress!, samples: pixels * samples) }
            destination.withUnsafeMutableBufferPointer { target in
                PixelConversion.convert(source.baseAddress!, samples: samples, pixels: pixels,
                                        toChannels: channels, into: target.baseAddress!)
            }
        }
        rowsRead += count
    }

    /// Decodes the next `count` rows, converted to `channels` (1 or 3), into
    /// `destination` as values in [0, 1] (at least `count · width · channels`
    /// floats, replaced): `byte / 255` for an 8-bit file (of the bytes a
    /// read into a `[UInt8]` buffer gives), `sample / 65535`
    /// for a 16-bit one, whose precision is kept.
    ///
    /// - Throws: as `readRows(_:channels:into:)` into a `[UInt8]` buffer.
    public func readRows(_ count: Int, channels: Int, into destination: inout [Float]) throws {
        try checkRead(count, channels: channels, available: destination.count)
        if count == 0 { return }
        let values = count * width * channels
        if bytesPerSample == 1 {
            if byteRows.count < values { byteRows = [UInt8](repeating: 0, count: values) }
            try readRows(count, channels: channels, into: &byteRows)
            SampleConversion.unit.withUnsafeBufferPointer { unit in
                for i in 0..<values { destination[i] = unit[Int(byteRows[i])] }
            }
            return
        }
        try fetchStoredRows(count)
        samplesRow.withUnsafeBytes { source in
            destination.withUnsafeMutableBufferPointer { target in
                SampleConversion.convert16(source.baseAddress!.assumingMemoryBound(to: UInt16.self), samples: samples,
                                           pixels: count * width, toChannels: channels, into: target.baseAddress!)
            }
        }
        rowsRead += count
    }

    private func checkRead(_ count: Int, channels: Int, available: Int) throws {
        guard channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("rows are read as 1 (gray) or 3 (RGB) channels, not \(channels)")
        }
        guard count >= 0, count <= height - rowsRead else {
            throw DAEError.invalidArgument("\(path): cannot read \(count) rows, \(height - rowsRead) are left")
        }
        guard available >= count * width * channels else {
            throw DAEError.invalidArgument("row buffer of \(available) values for \(count) rows of \(width)x\(channels)")
        }
    }

    /// Puts the samples of the next `count` rows, as shown, in `samplesRow`
    /// (the file's layout: `samples` of `bytesPerSample` per pixel).
    private func fetchStoredRows(_ count: Int) throws {
        let pixelBytes = samples * bytesPerSample
        let rowBytes = width * pixelBytes
        if samplesRow.count < rowBytes * count { samplesRow = [UInt8](repeating: 0, count: rowBytes * count) }
        guard decodesWhole else {
            try decode(count, into: &samplesRow)
            if orientation == .upMirrored {
                samplesRow.withUnsafeMutableBytes { SampleConversion.mirror($0.baseAddress!, rows: count, width: width, pixelBytes: pixelBytes) }
            }
            return
        }
        if whole.isEmpty {
            var decoded = [UInt8](repeating: 0, count: storedWidth * storedHeight * pixelBytes)
            try decode(storedHeight, into: &decoded)  // on failure nothing is kept
            whole = decoded
        }
        let (turn, sourceWidth, sourceHeight, shownWidth, top) = (orientation, storedWidth, storedHeight, width, rowsRead)
        whole.withUnsafeBytes { stored in
            samplesRow.withUnsafeMutableBytes { shown in
                for row in 0..<count {
                    for x in 0..<shownWidth {
                        let (sx, sy) = turn.storedPixel(x: x, y: top + row, width: sourceWidth, height: sourceHeight)
                        (shown.baseAddress! + (row * shownWidth + x) * pixelBytes)
                            .copyMemory(from: stored.baseAddress! + (sy * sourceWidth + sx) * pixelBytes, byteCount: pixelBytes)
                    }
                }
            }
        }
        if top + count == height { whole = [] }  // the last rows: the copy goes
    }

    /// `count` stored rows from the decoder into `buffer`.
    private func decode(_ count: Int, into buffer: inout [UInt8]) throws {
        let status = buffer.withUnsafeMutableBufferPointer { dae_image_reader_read_rows(reader, $0.baseAddress, Int32(count)) }
        guard status == 0 else {
            throw DAEError.corruptFile(path: path, reason: String(cString: dae_image_reader_error(reader)))
        }
    }

    /// Decodes every remaining row into an ``Image`` of `channels` (1 or 3;
    /// nil keeps the file's own: gray or RGB).
    ///
    /// - Throws: as `readRows(_:channels:into:)` into a `[UInt8]` buffer, and
    ///   ``DAEError/corruptFile(path:reason:)`` when the decoded image would
    ///   exceed `maximumBytes`.
    public func readImage(channels: Int? = nil, maximumBytes: Int = PNG.maximumDecodedBytes) throws -> Image {
        let channels = channels ?? self.channels
        let rows = height - rowsRead
        let (bytes, overflow) = (width * max(samples * bytesPerSample, channels)).multipliedReportingOverflow(by: rows)
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
