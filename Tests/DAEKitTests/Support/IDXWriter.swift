import CZlib
import DAEKit
import Foundation

/// Makes small IDX files, well-formed or deliberately broken, for the tests.
enum IDXWriter {
    /// The bytes of an unsigned-byte IDX file: magic 0x0000_08_rank, big-endian dimensions, payload.
    static func encode(dimensions: [Int], payload: [UInt8], typeByte: UInt8 = 0x08, rank: Int? = nil) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, typeByte, UInt8(rank ?? dimensions.count)]
        for dimension in dimensions {
            let value = UInt32(truncatingIfNeeded: dimension)
            bytes += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }
        return bytes + payload
    }

    /// `bytes` compressed as one gzip member with zlib's deflate.
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        // zlib checks that its stream stays at one address, so it gets its own allocation.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deinitialize(count: 1); stream.deallocate() }
        // windowBits 15 + 16: write a gzip (not zlib) wrapper.
        let status = deflateInit2_(stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2_ failed: \(status)")
        defer { deflateEnd(stream) }
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(bytes.count))) + 64)
        let written = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.pointee.next_in = inBuffer.baseAddress
                stream.pointee.avail_in = uInt(inBuffer.count)
                stream.pointee.next_out = outBuffer.baseAddress
                stream.pointee.avail_out = uInt(outBuffer.count)
                let result = deflate(stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate failed: \(result)")
                return outBuffer.count - Int(stream.pointee.avail_out)
            }
        }
        return Array(output.prefix(written))
    }

    /// Writes `bytes` to `name` in `directory` and returns its URL.
    @discardableResult
    static func write(_ bytes: [UInt8], named name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }
}
