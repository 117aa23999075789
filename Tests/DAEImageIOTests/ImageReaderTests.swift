import DAEImageIO
import DAELayers
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A photograph-like test image: smooth gradients plus a little texture, so JPEG keeps it close.
func smoothImage(width: Int, height: Int, channels: Int) throws -> Image {
    var pixels = [UInt8]()
    pixels.reserveCapacity(width * height * channels)
    for y in 0..<height {
        for x in 0..<width {
            for c in 0..<channels {
                pixels.append(UInt8(x * 120 / max(width, 1) + y * 60 / max(height, 1) + c * 25))
            }
        }
    }
    return try Image(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite("Reading PNG and JPEG row by row")
struct ImageReaderTests {
    @Test("PNG of odd sizes, read in bands, equals the whole image", arguments: [(1, 17), (17, 1), (13, 7), (301, 5)])
    func pngBands(size: (width: Int, height: Int)) throws {
        for channels in [1, 3] {
            let image = try patternImage(width: size.width, height: size.height, channels: channels)
            let reader = try ImageReader(data: try PNG.encode(image), path: "bands.png")
            #expect(reader.format == .png && reader.width == size.width && reader.height == size.height && reader.channels == channels)
            var collected = [UInt8]()
            var band = [UInt8](repeating: 0, count: 3 * size.width * channels)
            while reader.rowsRead < reader.height {
                let count = min(3, reader.height - reader.rowsRead)
                try reader.readRows(count, channels: channels, into: &band)
                collected += band.prefix(count * size.width * channels)
            }
            #expect(collected == image.pixels)
        }
    }

    @Test("rows convert on the way: RGB to BT.601 gray, gray to RGB")
    func conversions() throws {
        let rgb = try patternImage(width: 9, height: 4, channels: 3)
        let reader = try ImageReader(data: try PNG.encode(rgb), path: "rgb.png")
        #expect(try reader.readImage(channels: 1) == (try rgb.converted(toChannels: 1)))
        let gray = try patternImage(width: 9, height: 4, channels: 1)
        #expect(try ImageReader(data: try PNG.encode(gray), path: "g.png").readImage(channels: 3) == (try gray.converted(toChannels: 3)))
    }

    @Test("JPEG gray and RGB, any size, decode close to the original", arguments: [1, 3])
    func jpegRoundTrip(channels: Int) throws {
        for (width, height) in [(1, 9), (9, 1), (37, 23), (130, 70)] {
            let image = try smoothImage(width: width, height: height, channels: channels)
            let data = try JPEG.encode(image, quality: 100)
            #expect(data.prefix(3) == Data([0xFF, 0xD8, 0xFF]))
            let decoded = try ImageReader(data: data, path: "p.jpg")
            #expect(decoded.format == .jpeg && decoded.width == width && decoded.height == height && decoded.channels == channels)
            let pixels = try decoded.readImage().pixels
            let worst = zip(pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 8, "largest difference \(worst) at \(width)x\(height)x\(channels)")
        }
    }

    @Test("a truncated or damaged JPEG is an error, not gray rows or a crash")
    func damagedJPEG() throws {
        let data = try JPEG.encode(try smoothImage(width: 64, height: 64, channels: 3), quality: 90)
        for cut in [3, 20, data.count / 2, data.count - 2] {
            #expect(throws: DAEError.self, "cut at \(cut)") {
                try ImageReader(data: data.prefix(cut), path: "cut.jpg").readImage()
            }
        }
        var garbled = data
        for i in stride(from: data.count / 3, to: data.count - 4, by: 7) { garbled[i] = 0xFF }
        #expect(throws: DAEError.self) { try ImageReader(data: garbled, path: "garbled.jpg").readImage() }
    }

    @Test("a truncated PNG fails at its last rows; a chunk claiming 2 GB is refused without allocating it")
    func hostilePNG() throws {
        let data = try PNG.encode(try patternImage(width: 40, height: 40, channels: 1))
        #expect(throws: DAEError.self) { try PNG.decode(data.prefix(data.count - 12), path: "cut.png") }
        // Signature, IHDR of the real image, then a tEXt chunk whose length claims 2 GB.
        var bomb = Data(data.prefix(33))
        bomb += Data([0x7F, 0xFF, 0xFF, 0xF0]) + Data("tEXt".utf8) + Data(repeating: 0x41, count: 16)
        let error = #expect(throws: DAEError.self) { try PNG.decode(bomb, path: "bomb.png") }
        guard case .corruptFile = error else { Issue.record("expected corruptFile, got \(String(describing: error))"); return }
    }

    @Test("files that are not images, FIFOs and directories are refused with a reason")
    func notImages() throws {
        try withTemporaryDirectory { directory in
            let text = directory.appendingPathComponent("notes.png")
            try Data("hello".utf8).write(to: text)
            let error = #expect(throws: DAEError.self) { try ImageReader(contentsOf: text) }
            #expect(error?.description.contains("not a PNG or JPEG") == true)
            let fifo = directory.appendingPathComponent("pipe.png")
            #expect(mkfifo(fifo.path, 0o600) == 0)
            let fifoError = #expect(throws: DAEError.self) { try ImageReader(contentsOf: fifo) }
            #expect(fifoError?.description.contains("not a regular file") == true)
        }
    }
}

@Suite("Writing PNG row by row")
struct PNGRowWriterTests {
    @Test("rows written in bands give the same PNG content as a whole write", arguments: [1, 3])
    func bands(channels: Int) throws {
        try withTemporaryDirectory { directory in
            let image = try patternImage(width: 23, height: 11, channels: channels)
            let url = directory.appendingPathComponent("rows.png")
            let writer = try PNGRowWriter(url: url, width: 23, height: 11, channels: channels)
            let rowSize = 23 * channels
            for start in stride(from: 0, to: 11, by: 4) {
                let count = min(4, 11 - start)
                try image.pixels[(start * rowSize)..<((start + count) * rowSize)].withContiguousStorageIfAvailable {
                    try writer.write(rows: $0, count: count)
                }
                // Nothing appears at the target until the PNG is complete.
                #expect(!FileManager.default.fileExists(atPath: url.path))
            }
            try writer.finish()
            #expect(try PNG.read(contentsOf: url) == image)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["rows.png"])
        }
    }

    @Test("an unfinished or short PNG leaves no file behind")
    func unfinished() throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("short.png")
            do {
                let writer = try PNGRowWriter(url: url, width: 4, height: 4, channels: 1)
                try [UInt8](repeating: 9, count: 8).withUnsafeBufferPointer { try writer.write(rows: $0, count: 2) }
                #expect(throws: DAEError.self) { try writer.finish() }
            }
            do {
                let writer = try PNGRowWriter(url: url, width: 4, height: 4, channels: 1)
                try [UInt8](repeating: 9, count: 4).withUnsafeBufferPointer { try writer.write(rows: $0, count: 1) }
                // Dropped unfinished (an error elsewhere): its temporary file goes with it.
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }
}
