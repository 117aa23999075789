@testable import DAEImageIO
import DAELayers
import Foundation
import Testing

/// `jpeg` with the sides in its SOF marker (baseline C0, progressive C2) replaced.
func jpegClaiming(width: Int, height: Int, in jpeg: Data) -> Data {
    var data = jpeg
    let bytes = [UInt8](jpeg)
    guard let sof = bytes.indices.dropLast().first(where: { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }) else {
        return data
    }
    let at = jpeg.startIndex + sof + 5  // marker (2), length (2), precision (1), then height and width
    data[at] = UInt8(height >> 8)
    data[at + 1] = UInt8(height & 0xFF)
    data[at + 2] = UInt8(width >> 8)
    data[at + 3] = UInt8(width & 0xFF)
    return data
}

/// An interlaced (Adam7) 8-bit gray PNG of `image`, built byte by byte.
func interlacedPNG(_ image: Image) -> Data {
    let passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    var raw = [UInt8]()
    for (x0, y0, dx, dy) in passes where x0 < image.width && y0 < image.height {
        for y in stride(from: y0, to: image.height, by: dy) {
            raw.append(0)
            for x in stride(from: x0, to: image.width, by: dx) { raw.append(image[y, x, 0]) }
        }
    }
    var ihdr = Data()
    ihdr.append(bigEndian: UInt32(image.width))
    ihdr.append(bigEndian: UInt32(image.height))
    ihdr.append(contentsOf: [8, 0, 0, 0, 1])  // 8-bit gray, Adam7
    var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    png.appendChunk("IHDR", ihdr)
    png.appendChunk("IDAT", PNGFixture.zlibStored(raw))
    png.appendChunk("IEND", Data())
    return png
}

@Suite("Progressive and multi-scan JPEG: scan limit, coefficient budget, header-only opening")
struct ProgressiveJPEGTests {
    @Test("progressive and one-scan-per-component JPEGs decode like the baseline one", arguments: [1, 3])
    func layouts(channels: Int) throws {
        let image = try smoothImage(width: 70, height: 45, channels: channels)
        for scans in [JPEG.Scans.progressive, .componentScans] {
            let data = try JPEG.encode(image, quality: 100, scans: scans)
            // Several scans need the coefficient buffer: refused with no budget at all (a gray file's one component scan is one scan).
            let multiScan = channels == 3 || scans == .progressive
            #expect((try? ImageReader(data: data, path: "p.jpg", limits: .init(wholeImageBytes: 0))) == nil ? multiScan : !multiScan)
            let pixels = try ImageReader(data: data, path: "p.jpg").readImage().pixels
            let worst = zip(pixels, image.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 8, "\(scans): largest difference \(worst)")
        }
    }

    @Test("a JPEG of hundreds of scans opens (header only) but is refused past the scan limit when decoded")
    func scanLimit() throws {
        let data = try JPEG.encode(try smoothImage(width: 64, height: 64, channels: 1), quality: 90, scans: .manyScans)
        let reader = try ImageReader(data: data, path: "scans.jpg")  // listing reads the header only
        #expect(reader.width == 64)
        let error = #expect(throws: DAEError.self) { try reader.readImage() }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("scans.jpg") && message.contains("more than 100 scans"), "\(message)")
        // Raised past its 704 scans, the same file decodes.
        let image = try ImageReader(data: data, path: "scans.jpg", limits: .init(maximumScans: 1000)).readImage()
        #expect(image.width == 64 && image.height == 64)
        // Lowered, a standard progressive file (10 scans) is refused too: the limit is what is checked.
        let progressive = try JPEG.encode(try smoothImage(width: 64, height: 64, channels: 3), quality: 90, scans: .progressive)
        #expect(throws: DAEError.self) { try ImageReader(data: progressive, path: "p.jpg", limits: .init(maximumScans: 5)).readImage() }
    }

    @Test("a progressive JPEG whose coefficients exceed the budget is refused from its header")
    func coefficientBudget() throws {
        let small = try JPEG.encode(try smoothImage(width: 64, height: 64, channels: 1), quality: 90, scans: .progressive)
        // 33000 x 33000 gray: 4125² blocks of 128 bytes, 2.2 GB, in a file of a few kB.
        let huge = jpegClaiming(width: 33000, height: 33000, in: small)
        let error = #expect(throws: DAEError.self) { try ImageReader(data: huge, path: "huge.jpg") }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("huge.jpg") && message.contains("progressive") && message.contains("2078 MiB"), "\(message)")
        // The same budget, lowered, refuses the small file; a baseline file of that size needs no buffer.
        #expect(throws: DAEError.self) { try ImageReader(data: small, path: "s.jpg", limits: .init(wholeImageBytes: 8000)) }  // 8 × 8 blocks of 128 bytes: 8192
        _ = try ImageReader(data: try JPEG.encode(try smoothImage(width: 64, height: 64, channels: 1)), path: "b.jpg",
                            limits: .init(wholeImageBytes: 0)).readImage()
    }
}

@Suite("Interlaced PNG: decoded whole, within the budget")
struct InterlacedPNGTests {
    @Test("an interlaced PNG of odd size reads in bands as the image it holds")
    func bands() throws {
        for (width, height) in [(1, 1), (13, 7), (33, 20)] {
            let image = try patternImage(width: width, height: height, channels: 1)
            let reader = try ImageReader(data: interlacedPNG(image), path: "i.png")
            #expect(reader.needsWholeImage)
            var collected = [UInt8]()
            var band = [UInt8](repeating: 0, count: 3 * width)
            while reader.rowsRead < reader.height {
                let count = min(3, reader.height - reader.rowsRead)
                try reader.readRows(count, channels: 1, into: &band)
                collected += band.prefix(count * width)
            }
            #expect(collected == image.pixels)
            #expect(try ImageReader(data: interlacedPNG(image), path: "i.png").readImage() == image)
        }
    }

    @Test("damaged data in an image decoded whole (interlaced PNG, turned JPEG) is an error, not a trap (found by the fuzzer)")
    func damagedWholeImages() throws {
        let png = interlacedPNG(try patternImage(width: 33, height: 20, channels: 1))
        let turned = ExifJPEG.withExif(try JPEG.encode(try smoothImage(width: 40, height: 30, channels: 3)),
                                       tiff: ExifJPEG.tiff(orientation: 6, bigEndian: false))
        for (data, name) in [(png, "i.png"), (turned, "t.jpg")] {
            for cut in [data.count - 60, data.count - 3] {
                #expect(throws: DAEError.self, "\(name) cut at \(cut)") {
                    let reader = try ImageReader(data: data.prefix(cut), path: name)
                    var band = [UInt8](repeating: 0, count: 3 * reader.width * 3)
                    try reader.readRows(3, channels: 3, into: &band)
                }
            }
        }
    }

    @Test("an interlaced PNG claiming 36000x36000 is refused from its header, with the reason")
    func hugeHeader() throws {
        var claim = interlacedPNG(try patternImage(width: 8, height: 8, channels: 1))
        // Rewrite IHDR's sides (bytes 16…23) and its CRC.
        var ihdr = Data()
        ihdr.append(bigEndian: UInt32(36000))
        ihdr.append(bigEndian: UInt32(36000))
        ihdr.append(contentsOf: [8, 0, 0, 0, 1])
        claim.replaceSubrange(16..<29, with: ihdr)
        var crc = Data()
        crc.append(bigEndian: PNGFixture.crc32(Data("IHDR".utf8) + ihdr))
        claim.replaceSubrange(29..<33, with: crc)
        let error = #expect(throws: DAEError.self) { try ImageReader(data: claim, path: "interlaced.png") }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("interlaced.png") && message.contains("interlaced PNG") && message.contains("1236 MiB"), "\(message)")
        // The same image not interlaced streams: nothing is held whole.
        claim[28] = 0
        crc = Data()
        crc.append(bigEndian: PNGFixture.crc32(claim[12..<29]))
        claim.replaceSubrange(29..<33, with: crc)
        let plain = try ImageReader(data: claim, path: "plain.png")
        #expect(!plain.needsWholeImage && plain.wholeImageBytes == 0)
    }
}
