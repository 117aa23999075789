import DAEFiles
import CImageCodecs
import DAELayers
import Foundation

/// Writes an 8-bit gray or RGB PNG row by row, atomically: the file appears
/// at its path, complete, only after ``finish()``; until then it is a
/// temporary file beside it (see `AtomicFile.Writer`), removed if the
/// writer is dropped unfinished or the process is interrupted.
///
/// ```swift
/// let writer = try PNGRowWriter(url: out, width: 4000, height: 3000, channels: 3)
/// try writer.write(rows: band, count: 16)        // 16 · 4000 · 3 bytes, any number of times
/// try writer.finish()                            // exactly `height` rows in all
/// ```
public final class PNGRowWriter {
    /// The image's width, height and channels (1 or 3).
    public let width: Int, height: Int, channels: Int
    /// Rows written so far.
    public private(set) var rowsWritten = 0
    private let file: AtomicFile.Writer
    private let encoder: OpaquePointer

    /// Starts the PNG at `url`.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` for a bad size or channel
    ///   count, ``DAEError/writeFailed(path:reason:)`` when the file cannot be created.
    public init(url: URL, width: Int, height: Int, channels: Int) throws {
        guard width > 0, height > 0, width <= Int(Int32.max) / 3, height <= Int(Int32.max), channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("a PNG of \(width)x\(height) with \(channels) channels cannot be written")
        }
        self.width = width
        self.height = height
        self.channels = channels
        file = try AtomicFile.Writer(url: url)
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        guard let encoder = dae_png_writer_open(file.descriptor, Int32(width), Int32(height), Int32(channels),
                                                &message, message.count) else {
            file.discard()
            throw DAEError.writeFailed(path: url.path, reason: messageText(message))
        }
        self.encoder = encoder
    }

    deinit { dae_png_writer_close(encoder) }

    /// Encodes the next `count` rows from `rows` (`count · width · channels` bytes).
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` past the last row, ``DAEError/writeFailed(path:reason:)``.
    public func write(rows: UnsafeBufferPointer<UInt8>, count: Int) throws {
        guard count >= 0, count <= height - rowsWritten, rows.count >= count * width * channels else {
            throw DAEError.invalidArgument("\(file.path): cannot write \(count) rows, \(height - rowsWritten) are left")
        }
        guard dae_png_writer_write_rows(encoder, rows.baseAddress, Int32(count)) == 0 else {
            throw DAEError.writeFailed(path: file.path, reason: String(cString: dae_png_writer_error(encoder)))
        }
        rowsWritten += count
    }

    /// Ends the PNG and renames it into place.
    ///
    /// - Throws: ``DAEError/writeFailed(path:reason:)`` when rows are missing or a write fails.
    public func finish() throws {
        guard rowsWritten == height else {
            file.discard()
            throw DAEError.writeFailed(path: file.path, reason: "only \(rowsWritten) of \(height) rows were written")
        }
        guard dae_png_writer_finish(encoder) == 0 else {
            file.discard()
            throw DAEError.writeFailed(path: file.path, reason: String(cString: dae_png_writer_error(encoder)))
        }
        try file.commit()
    }

    /// Drops the unfinished PNG (its temporary file is removed).
    public func discard() { file.discard() }
}
