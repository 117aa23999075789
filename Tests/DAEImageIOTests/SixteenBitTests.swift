@testable import DAEImageIO
import DAEFiles
import DAELayers
import Foundation
import Testing

@Suite("16-bit PNG in and out")
struct SixteenBitTests {
    /// A 16-bit gray gradient: 600 columns, every value distinct in each row.
    static func gradient(width: Int = 600, height: Int = 5) -> [UInt16] {
        (0..<(width * height)).map { i in UInt16((i % width) * 65535 / (width - 1)) &+ UInt16(i / width) }
    }

    @Test("a 16-bit PNG written row by row reads back with every sample, as Float in [0, 1]")
    func roundTrip() throws {
        try withTemporaryDirectory { directory in
            let (width, height) = (600, 5)
            let samples = Self.gradient(width: width, height: height)
            let url = directory.appendingPathComponent("deep.png")
            let writer = try PNGRowWriter(url: url, width: width, height: height, channels: 1, bitDepth: 16)
            try samples.withUnsafeBufferPointer { try writer.write(rows: $0, count: height) }
            try writer.finish()
            // Big-endian on disk: the first row's second sample, 65535 / 599 = 109 = 0x006D.
            let bytes = try Data(contentsOf: url)
            #expect(bytes[24] == 16, "IHDR bit depth")
            let reader = try ImageReader(contentsOf: url)
            #expect(reader.sourceBitDepth == 16 && reader.width == width && reader.height == height && reader.channels == 1)
            var values = [Float](repeating: 0, count: width * height)
            try reader.readRows(height, channels: 1, into: &values)
            let back = values.map { UInt16(($0 * 65535).rounded()) }
            #expect(back == samples)
            #expect(Set(back).count > 256)
            // As bytes, each sample is rounded to the nearest 8-bit value.
            let bytesBack = try ImageReader(contentsOf: url).readImage().pixels
            #expect(bytesBack == samples.map { UInt8((UInt32($0) * 255 + 32767) / 65535) })
        }
    }

    @Test("16-bit RGB read as gray by BT.601 luma, alpha over black, at full precision")
    func conversions() throws {
        // One RGBA pixel: (40000, 20000, 10000) at alpha 32768; and a gray + alpha one.
        func be(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
        let rgba = PNGFixture.make(width: 1, height: 1, colorType: .rgba, bitDepth: 16,
                                   rows: [be(40000) + be(20000) + be(10000) + be(32768)])
        var gray = [Float](repeating: 0, count: 1)
        try ImageReader(data: rgba, path: "rgba16.png").readRows(1, channels: 1, into: &gray)
        let alpha = Float(32768) / 65535
        let expected = (0.299 * 40000 + 0.587 * 20000 + 0.114 * 10000) * alpha / 65535
        #expect(abs(gray[0] - expected) < 1e-6)
        var rgb = [Float](repeating: 0, count: 3)
        try ImageReader(data: rgba, path: "rgba16.png").readRows(1, channels: 3, into: &rgb)
        #expect(abs(rgb[0] - 40000 * alpha / 65535) < 1e-6 && abs(rgb[2] - 10000 * alpha / 65535) < 1e-6)
    }

    @Test("8-bit files read as Float give byte / 255, as before")
    func eightBitAsFloat() throws {
        let image = try patternImage(width: 17, height: 3, channels: 3)
        var values = [Float](repeating: 0, count: 17 * 3 * 3)
        try ImageReader(data: try PNG.encode(image), path: "p.png").readRows(3, channels: 3, into: &values)
        #expect(values == image.pixels.map { Float($0) / 255 })
    }

    @Test("a writer refuses rows of the other bit depth")
    func mismatchedRows() throws {
        try withTemporaryDirectory { directory in
            let writer = try PNGRowWriter(url: directory.appendingPathComponent("x.png"), width: 2, height: 1, channels: 1, bitDepth: 16)
            #expect(throws: DAEError.self) {
                try [UInt8](repeating: 1, count: 2).withUnsafeBufferPointer { try writer.write(rows: $0, count: 1) }
            }
        }
    }
}

@Suite("A full disk")
struct FullDiskTests {
    @Test("a PNG written to a full device says 'no space left on device' and names the file, not libpng's 'Write Error'")
    func noSpaceLeft() throws {
        let descriptor = open("/dev/full", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }  // no /dev/full here (not Linux)
        defer { close(descriptor) }
        let (width, height) = (512, 64)
        // Noise does not compress: the encoder's output passes the stdio buffer at once.
        var state: UInt32 = 1
        let rows = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(state >> 24)
        }
        let encoder = try PNGEncoder(descriptor: descriptor, path: "/out/denoised.png", width: width, height: height, channels: 3, bitDepth: 8)
        let error = #expect(throws: DAEError.self) {
            try rows.withUnsafeBytes { try encoder.write($0.baseAddress!, count: height) }
            try encoder.finish()
        }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("no space left on device"), "\(message)")
        #expect(message.contains("/out/denoised.png"), "\(message)")
        #expect(!message.contains("Write Error"), "\(message)")

        // A small image fits stdio's buffer: the failure comes at the final flush, with the same words.
        let small = try PNGEncoder(descriptor: descriptor, path: "/out/small.png", width: 4, height: 4, channels: 1, bitDepth: 8)
        let smallError = #expect(throws: DAEError.self) {
            try [UInt8](repeating: 7, count: 16).withUnsafeBytes { try small.write($0.baseAddress!, count: 4) }
            try small.finish()
        }
        #expect(smallError.map { String(describing: $0) }?.contains("/out/small.png: cannot write: no space left on device") == true)
    }

    @Test("an atomic write that fails on a full disk says so first, as the PNG writer does, and names the file")
    func atomicFileSaysNoSpaceLeft() {
        let error = DAEError.writeFailed(path: "/out/model.safetensors",
                                         reason: AtomicFile.reason(ENOSPC, "fsync of the temporary file"))
        #expect(error.localizedDescription
            == "/out/model.safetensors: cannot write: no space left on device (fsync of the temporary file)")
        #expect(AtomicFile.reason(EDQUOT, "close of the temporary file") == "disk quota exceeded (close of the temporary file)")
        // Other failures keep the system's words.
        #expect(AtomicFile.reason(EACCES, "rename of the temporary file over the target")
            == "rename of the temporary file over the target: \(String(cString: strerror(EACCES)))")
    }
}
