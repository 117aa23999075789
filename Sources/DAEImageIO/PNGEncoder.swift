import CImageCodecs
import DAELayers

/// libpng's row-by-row encoder on an open file descriptor, which it does not
/// close; ``PNGRowWriter`` gives it the temporary file of an atomic write.
/// A failed write is reported in the system's words ("no space left on
/// device") with `path`, not as libpng's "Write Error".
final class PNGEncoder {
    let path: String
    let width: Int, height: Int, channels: Int, bitDepth: Int
    private let encoder: OpaquePointer

    /// Starts a PNG of `width` × `height` with `channels` (1 or 3) of `bitDepth` (8 or 16) bits on `descriptor`.
    init(descriptor: Int32, path: String, width: Int, height: Int, channels: Int, bitDepth: Int) throws {
        guard width > 0, height > 0, width <= Int(Int32.max) / 6, height <= Int(Int32.max),
              channels == 1 || channels == 3, bitDepth == 8 || bitDepth == 16 else {
            throw DAEError.invalidArgument("a PNG of \(width)x\(height) with \(channels) channels of \(bitDepth) bits cannot be written")
        }
        (self.path, self.width, self.height, self.channels, self.bitDepth) = (path, width, height, channels, bitDepth)
        var message = [CChar](repeating: 0, count: Int(DAE_CODEC_ERROR_SIZE))
        guard let encoder = dae_png_writer_open(descriptor, Int32(width), Int32(height), Int32(channels), Int32(bitDepth),
                                                &message, message.count) else {
            throw DAEError.writeFailed(path: path, reason: messageText(message))
        }
        self.encoder = encoder
    }

    deinit { dae_png_writer_close(encoder) }

    /// Encodes `count` rows at `rows` (`count · width · channels` samples of `bitDepth` bits, host byte order).
    func write(_ rows: UnsafeRawPointer, count: Int) throws {
        guard dae_png_writer_write_rows(encoder, rows.assumingMemoryBound(to: UInt8.self), Int32(count)) == 0 else {
            throw DAEError.writeFailed(path: path, reason: String(cString: dae_png_writer_error(encoder)))
        }
    }

    /// Writes the end of the PNG and flushes it to the descriptor.
    func finish() throws {
        guard dae_png_writer_finish(encoder) == 0 else {
            throw DAEError.writeFailed(path: path, reason: String(cString: dae_png_writer_error(encoder)))
        }
    }
}
