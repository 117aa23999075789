import DAEFiles
import CImageCodecs
import DAELayers
import Foundation

/// Writes an 8- or 16-bit gray or RGB PNG row by row, atomically: the file
/// appears at its path, complete, only after ``finish()``; until then it is
/// a temporary file beside it (see `AtomicFile.Writer`), removed if the
/// writer is dropped unfinished or the process is interrupted. A write that
/// fails (a full disk) names the file and says why: "no space left on device".
///
/// ```swift
/// let writer = try PNGRowWriter(url: out, width: 4000, height: 3000, channels: 3)
/// try writer.write(rows: band, count: 16)        // 16 · 4000 · 3 bytes, any number of times
/// try writer.finish()                            // exactly `height` rows in all
/// ```
public final class PNGRowWriter {
    /// The image's width, height and channels (1 or 3).
    public let width: Int, height: Int, channels: Int
    /// Bits per sample: 8, or 16 (rows given as `UInt16`).
    public let bitDepth: Int
    /// Rows written so far.
    public private(set) var rowsWritten = 0
    private let file: AtomicFile.Writer
    private let encoder: PNGEncoder

    /// Starts the PNG at `url`, with `bitDepth` 8 (rows of bytes) or 16 (rows of `UInt16`).
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` for a bad size, channel
    ///   count or bit depth, ``DAEError/writeFailed(path:reason:)`` when the file cannot be created.
    public init(url: URL, width: Int, height: Int, channels: Int, bitDepth: Int = 8) throws {
        guard width > 0, height > 0, width <= Int(Int32.max) / 6, height <= Int(Int32.max),
              channels == 1 || channels == 3, bitDepth == 8 || bitDepth == 16 else {
            throw DAEError.invalidArgument("a PNG of \(width)x\(height) with \(channels) channels of \(bitDepth) bits cannot be written")
        }
        (self.width, self.height, self.channels, self.bitDepth) = (width, height, channels, bitDepth)
        file = try AtomicFile.Writer(url: url)
        do {
            encoder = try PNGEncoder(descriptor: file.descriptor, path: url.path, width: width, height: height,
                                     channels: channels, bitDepth: bitDepth)
        } catch {
            file.discard()
            throw error
        }
    }

    /// Encodes the next `count` rows from `rows` (`count · width · channels` bytes) of an 8-bit PNG.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` past the last row or for a 16-bit writer,
    ///   ``DAEError/writeFailed(path:reason:)``.
    public func write(rows: UnsafeBufferPointer<UInt8>, count: Int) throws {
        try check(count, bits: 8, available: rows.count)
        if count > 0 { try encoder.write(rows.baseAddress!, count: count) }
        rowsWritten += count
    }

    /// Encodes the next `count` rows from `rows` (`count · width · channels` samples) of a 16-bit PNG.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` past the last row or for an 8-bit writer,
    ///   ``DAEError/writeFailed(path:reason:)``.
    public func write(rows: UnsafeBufferPointer<UInt16>, count: Int) throws {
        try check(count, bits: 16, available: rows.count)
        if count > 0 { try encoder.write(rows.baseAddress!, count: count) }
        rowsWritten += count
    }

    private func check(_ count: Int, bits: Int, available: Int) throws {
        guard bits == bitDepth else {
            throw DAEError.invalidArgument("\(file.path): rows of \(bits)-bit samples given to a \(bitDepth)-bit PNG")
        }
        guard count >= 0, count <= height - rowsWritten, available >= count * width * channels else {
            throw DAEError.invalidArgument("\(file.path): cannot write \(count) rows, \(height - rowsWritten) are left")
        }
    }

    /// Ends the PNG and renames it into place.
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` when rows are missing or a write fails.
    public func finish() throws {
        guard rowsWritten == height else {
            file.discard()
            throw DAEError.writeFailed(path: file.path, reason: "only \(rowsWritten) of \(height) rows were written")
        }
        do {
            try encoder.finish()
        } catch {
            file.discard()
            throw error
        }
        try file.commit()
    }

    /// Drops the unfinished PNG (its temporary file is removed).
    public func discard() { file.discard() }
}
