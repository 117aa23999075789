import Foundation

/// Builds small PNG files byte by byte, independently of libpng, so the
/// tests can feed the decoder formats the encoder never writes (alpha,
/// 16-bit, palette) and hand-made hostile headers.
///
/// The image data are stored uncompressed (deflate "stored" blocks), which
/// every PNG decoder must accept.
enum PNGFixture {
    /// PNG colour types (PNG spec, IHDR).
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6
    }

    /// A complete PNG from unfiltered rows (`rows[y]` holds row `y`'s packed samples).
    static func make(
        width: Int, height: Int, colorType: ColorType, bitDepth: UInt8 = 8,
        rows: [[UInt8]], palette: [UInt8]? = nil, transparency: [UInt8]? = nil
    ) -> Data {
        var ihdr = Data()
        ihdr.append(bigEndian: UInt32(width))
        ihdr.append(bigEndian: UInt32(height))
        ihdr.append(contentsOf: [bitDepth, colorType.rawValue, 0, 0, 0])
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        png.appendChunk("IHDR", ihdr)
        if let palette { png.appendChunk("PLTE", Data(palette)) }
        if let transparency { png.appendChunk("tRNS", Data(transparency)) }
        let raw = rows.flatMap { [UInt8(0)] + $0 }  // filter type 0 (None) before each row
        png.appendChunk("IDAT", zlibStored(raw))
        png.appendChunk("IEND", Data())
        return png
    }

    /// A zlib stream holding `bytes` in stored (uncompressed) deflate blocks.
    static func zlibStored(_ bytes: [UInt8]) -> Data {
        var out = Data([0x78, 0x01])
        var start = 0
        repeat {
            let length = min(65_535, bytes.count - start)
            let isLast = start + length == bytes.count
            out.append(isLast ? 1 : 0)
            out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)])
            out.append(contentsOf: bytes[start..<start + length])
            start += length
        } while start < bytes.count
        var a: UInt32 = 1, b: UInt32 = 0  // Adler-32
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        out.append(bigEndian: b << 16 | a)
        return out
    }

    static func crc32(_ bytes: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

extension Data {
    mutating func append(bigEndian value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }

    mutating func appendChunk(_ type: String, _ body: Data) {
        append(bigEndian: UInt32(body.count))
        let typed = Data(type.utf8) + body
        append(typed)
        append(bigEndian: PNGFixture.crc32(typed))
    }
}
