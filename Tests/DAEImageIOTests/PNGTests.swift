import DAEImageIO
import DAELayers
import Foundation
import Testing

/// A fresh empty directory, removed when `body` returns.
func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("DAEImageIOTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    try body(directory)
}

/// A gradient-like test image whose every byte differs from its neighbours.
func patternImage(width: Int, height: Int, channels: Int) throws -> Image {
    let pixels = (0..<width * height * channels).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite("PNG reading and writing")
struct PNGTests {
    @Test("gray and RGB images survive encode → decode unchanged", arguments: [1, 3])
    func roundTrip(channels: Int) throws {
        let image = try patternImage(width: 13, height: 7, channels: channels)
        let data = try PNG.encode(image)
        #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(try PNG.decode(data, path: "memory.png") == image)
    }

    @Test("a large, incompressible image round-trips too")
    func largeRoundTrip() throws {
        var state: UInt32 = 12_345
        let pixels = (0..<300 * 200 * 3).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(state >> 24)
        }
        let image = try Image(width: 300, height: 200, channels: 3, pixels: pixels)
        #expect(try PNG.decode(PNG.encode(image), path: "noise.png") == image)
    }

    @Test("gray+alpha is composited over black into gray")
    func grayAlpha() throws {
        // (value, alpha) pairs: opaque 200, half-transparent 200, transparent 200.
        let data = PNGFixture.make(width: 3, height: 1, colorType: .grayAlpha, rows: [[200, 255, 200, 128, 200, 0]])
        let image = try PNG.decode(data, path: "ga.png")
        #expect(image.channels == 1)
        #expect(image.pixels == [200, 100, 0])  // 200·128/255 = 100.4
    }

    @Test("RGBA is composited over black into RGB")
    func rgba() throws {
        let data = PNGFixture.make(width: 2, height: 1, colorType: .rgba, rows: [[10, 20, 30, 255, 255, 255, 255, 51]])
        let image = try PNG.decode(data, path: "rgba.png")
        #expect(image.channels == 3)
        #expect(image.pixels == [10, 20, 30, 51, 51, 51])
    }

    @Test("16-bit gray is reduced to 8 bits without a gamma change")
    func sixteenBit() throws {
        let data = PNGFixture.make(
            width: 3, height: 1, colorType: .gray, bitDepth: 16, rows: [[0x00, 0x00, 0x80, 0x80, 0xFF, 0xFF]])
        #expect(try PNG.decode(data, path: "16.png").pixels == [0, 128, 255])
    }

    @Test("the reader says a file has 16-bit samples (rows are read as 8 bits)")
    func sourceBitDepth() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("16.png")
            try PNGFixture.make(width: 3, height: 1, colorType: .gray, bitDepth: 16, rows: [[0x00, 0x00, 0x80, 0x80, 0xFF, 0xFF]])
                .write(to: url)
            #expect(try ImageReader(contentsOf: url).sourceBitDepth == 16)
            let eight = directory.appendingPathComponent("8.png")
            try PNG.write(try Image(width: 2, height: 1, channels: 1, pixels: [1, 2]), to: eight)
            #expect(try ImageReader(contentsOf: eight).sourceBitDepth == 8)
        }
    }

    @Test("palette images are expanded to RGB")
    func palette() throws {
        let data = PNGFixture.make(
            width: 3, height: 1, colorType: .palette, rows: [[2, 0, 1]],
            palette: [255, 0, 0, 0, 255, 0, 0, 0, 255])
        #expect(try PNG.decode(data, path: "pal.png").pixels == [0, 0, 255, 255, 0, 0, 0, 255, 0])
    }

    @Test("garbage, empty and truncated data throw corruptFile naming the path")
    func corrupt() throws {
        let valid = try PNG.encode(patternImage(width: 20, height: 20, channels: 1))
        let cases: [Data] = [
            Data("this is not a PNG file at all".utf8),
            Data(),
            valid.prefix(8),                   // signature only
            valid.prefix(valid.count / 2),     // cut inside the image data
            valid.prefix(valid.count - 12),    // image data complete, IEND missing
        ]
        for data in cases {
            do {
                _ = try PNG.decode(data, path: "/data/broken.png")
                Issue.record("decoding \(data.count) bytes should have failed")
            } catch let DAEError.corruptFile(path, reason) {
                #expect(path == "/data/broken.png")
                #expect(!reason.isEmpty)
            }
        }
    }

    @Test("a header claiming a huge image is refused, not allocated")
    func hugeHeader() throws {
        let data = PNGFixture.make(width: 1_000_000, height: 1_000_000, colorType: .rgba, rows: [[]])
        #expect(throws: DAEError.self) { try PNG.decode(data, path: "huge.png") }
    }

    @Test("reading a missing file throws fileUnreadable")
    func missingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/x.png")
        let error = #expect(throws: DAEError.self) { try PNG.read(contentsOf: url) }
        guard case let .fileUnreadable(path, _) = error else {
            Issue.record("expected fileUnreadable, got \(String(describing: error))")
            return
        }
        #expect(path == url.path)
    }

    @Test("reading a directory throws fileUnreadable saying it is a directory")
    func readDirectory() throws {
        try withTemporaryDirectory { directory in
            let error = #expect(throws: DAEError.self) { try PNG.read(contentsOf: directory) }
            #expect(error?.description.contains("is a directory") == true)
        }
    }

    @Test("write then read gives the image back; overwriting replaces the content")
    func writeAndOverwrite() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("figure.png")
            let first = try patternImage(width: 5, height: 4, channels: 1)
            let second = try patternImage(width: 8, height: 3, channels: 3)
            try PNG.write(first, to: url)
            #expect(try PNG.read(contentsOf: url) == first)
            try PNG.write(second, to: url)
            #expect(try PNG.read(contentsOf: url) == second)
            // Only the target is left: no temporary files.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["figure.png"])
        }
    }

    @Test("writing into a missing directory throws writeFailed and creates nothing")
    func writeIntoMissingDirectory() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("missing/figure.png")
            let image = try patternImage(width: 2, height: 2, channels: 1)
            let error = #expect(throws: DAEError.self) { try PNG.write(image, to: url) }
            guard case let .writeFailed(path, _) = error else {
                Issue.record("expected writeFailed, got \(String(describing: error))")
                return
            }
            #expect(path == url.path)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }

    @Test("a failed replace leaves the old target untouched and no temporary file")
    func failedReplaceKeepsTarget() throws {
        try withTemporaryDirectory { directory in
            // The target is a non-empty directory: rename cannot replace it.
            let target = directory.appendingPathComponent("figure.png")
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
            try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))
            #expect(throws: DAEError.self) {
                try PNG.write(try patternImage(width: 2, height: 2, channels: 1), to: target)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["figure.png"])
            #expect(try Data(contentsOf: target.appendingPathComponent("inside")) == Data("keep".utf8))
        }
    }
}
