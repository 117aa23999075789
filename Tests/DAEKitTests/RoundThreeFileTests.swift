import DAEImageIO
import DAEKit
import Foundation
import Testing

/// The third reliability round's file cases through the library: 16-bit
/// output, EXIF orientation, names that are not UTF-8.
@Suite("Image files: 16-bit output, orientation, non-UTF-8 names")
struct RoundThreeFileTests {
    @Test("a 16-bit PNG is denoised into a 16-bit PNG, equal to the in-memory result of its full-precision samples")
    func sixteenBitOutput() throws {
        try withTemporaryDirectory { directory in
            let model = try Photos.residualModel(channels: 1)
            let (width, height) = (300, 40)
            // A gradient with more than 256 levels in each row, plus a little texture.
            let samples = (0..<(width * height)).map { i -> UInt16 in
                let (x, y) = (i % width, i / width)
                return UInt16(min(65535, 8000 + x * 160 + (x * 7919 + y * 104729) % 997))
            }
            let input = directory.appendingPathComponent("deep.png")
            let writer = try PNGRowWriter(url: input, width: width, height: height, channels: 1, bitDepth: 16)
            try samples.withUnsafeBufferPointer { try writer.write(rows: $0, count: height) }
            try writer.finish()

            let output = directory.appendingPathComponent("deep-denoised.png")
            let report = try model.denoiseImageFile(input, to: output)
            #expect(report.inputBitDepth == 16 && report.outputBitDepth == 16)
            let reader = try ImageReader(contentsOf: output)
            #expect(reader.sourceBitDepth == 16 && reader.width == width && reader.height == height)
            var values = [Float](repeating: 0, count: width * height)
            try reader.readRows(height, channels: 1, into: &values)
            let written = values.map { UInt16(($0 * 65535).rounded()) }
            #expect(Set(written).count > 256)

            let clean = Tensor(shape: [1, height, width, 1], scalars: samples.map { Float($0) / 65535 })
            let expected = try model.denoise(clean).scalars.map { UInt16((min(max($0, 0), 1) * 65535).rounded()) }
            #expect(written == expected)
        }
    }

    @Test("a JPEG photographed upright (EXIF orientation 6, stored 120x80) is denoised the right way up, 80x120")
    func orientedPhotograph() throws {
        try withTemporaryDirectory { directory in
            let model = try Photos.residualModel(channels: 3)
            let stored = try JPEG.encode(try Photos.image(width: 120, height: 80, channels: 3, seed: 3), quality: 95)
            // APP1 Exif after SOI: big-endian TIFF, IFD0 with one entry, Orientation (0x0112) SHORT 6.
            let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]
            let payload = Array("Exif".utf8) + [0, 0] + tiff
            let app1 = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
            let input = directory.appendingPathComponent("phone.jpg")
            try (stored.prefix(2) + Data(app1) + stored.dropFirst(2)).write(to: input)
            let output = directory.appendingPathComponent("phone-denoised.png")
            let report = try model.denoiseImageFile(input, to: output)
            #expect(report.width == 80 && report.height == 120)
            let image = try PNG.read(contentsOf: output)
            #expect(image.width == 80 && image.height == 120)
            // The same as denoising the upright picture in memory.
            let upright = try ImageFile.read(contentsOf: input, channels: 3)
            #expect(upright.width == 80)
            #expect(image == (try Image(tensor: model.denoise(upright.tensor(channels: 3)), index: 0)))
        }
    }

    @Test("an image folder lists and reads a file whose name is not UTF-8")
    func nonUTF8Names() throws {
        try withTemporaryDirectory { directory in
            let png = try PNG.encode(try Photos.image(width: 20, height: 20, channels: 1, seed: 1))
            for name in [Array("a.png".utf8), Array("b".utf8) + [0xFF] + Array(".png".utf8), Array("c.png".utf8)] {
                let path = Array(directory.path.utf8) + [UInt8(ascii: "/")] + name + [0]
                let descriptor = path.withUnsafeBufferPointer {
                    $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
                }
                try #require(descriptor >= 0)
                _ = png.withUnsafeBytes { write(descriptor, $0.baseAddress!, $0.count) }
                close(descriptor)
            }
            let folder = try ImageFolder(directory: directory)
            #expect(folder.count == 3)
            #expect(folder.files.map(\.name) == ["a.png", "b\u{FFFD}.png", "c.png"])
            #expect(folder.files[1].fileSystemPath.bytes.suffix(6) == [UInt8(ascii: "b"), 0xFF] + Array(".png".utf8))
            #expect(try folder.image(at: 1).width == 20)
            // Denoised straight from its bytes.
            let model = try Photos.residualModel(channels: 1)
            let output = directory.appendingPathComponent("out.png")
            try model.denoiseImageFile(at: folder.files[1].fileSystemPath, to: output, noiseLevel: nil)
            #expect(try PNG.read(contentsOf: output).width == 20)
        }
    }
}
