@testable import DAEImageIO
import DAELayers
import Foundation
import Testing

/// JPEG files with an EXIF orientation, built in the tests.
enum ExifJPEG {
    /// The TIFF structure of an Exif segment holding only IFD0's Orientation tag.
    static func tiff(orientation: Int, bigEndian: Bool) -> [UInt8] {
        func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
        let order: [UInt8] = bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]
        // Header, IFD0 at offset 8 with two entries (an XResolution-like tag first, then Orientation), no next IFD.
        return order + u16(42) + u32(8) + u16(2)
            + u16(0x011A) + u16(5) + u32(1) + u32(0)
            + u16(0x0112) + u16(3) + u32(1) + u16(orientation) + u16(0)
            + u32(0)
    }

    /// `jpeg` with an APP1 Exif segment holding `tiff` spliced in after SOI.
    static func withExif(_ jpeg: Data, tiff: [UInt8]) -> Data {
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return jpeg.prefix(2) + Data([0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload) + jpeg.dropFirst(2)
    }

    /// `image` (stored pixels) as shown with `orientation`, computed independently of the reader.
    static func shown(_ image: Image, orientation: Int) throws -> Image {
        let (w, h, c) = (image.width, image.height, image.channels)
        let turned = orientation >= 5
        let (width, height) = turned ? (h, w) : (w, h)
        var pixels = [UInt8](repeating: 0, count: w * h * c)
        for y in 0..<height {
            for x in 0..<width {
                // Where the shown pixel comes from: undo the mirror and the turn step by step.
                var (sx, sy) = turned ? (y, x) : (x, y)             // 5: transpose
                switch orientation {
                case 2: sx = w - 1 - sx
                case 3: (sx, sy) = (w - 1 - sx, h - 1 - sy)
                case 4: sy = h - 1 - sy
                case 6: sy = h - 1 - sy                              // 90° clockwise = transpose, then flip
                case 7: (sx, sy) = (w - 1 - sx, h - 1 - sy)
                case 8: sx = w - 1 - sx                              // 90° counter-clockwise
                default: break
                }
                for k in 0..<c { pixels[(y * width + x) * c + k] = image.pixels[(sy * w + sx) * c + k] }
            }
        }
        return try Image(width: width, height: height, channels: c, pixels: pixels)
    }
}

@Suite("EXIF orientation of JPEG photographs")
struct OrientationTests {
    @Test("every orientation 1–8, little- and big-endian, gives the picture as shown", arguments: 1...8)
    func eachOrientation(orientation: Int) throws {
        for channels in [1, 3] {
            // Stored 48 wide, 32 high: a phone's sideways picture.
            let plain = try JPEG.encode(try smoothImage(width: 48, height: 32, channels: channels), quality: 95)
            let stored = try ImageReader(data: plain, path: "plain.jpg").readImage()
            for bigEndian in [false, true] {
                let data = ExifJPEG.withExif(plain, tiff: ExifJPEG.tiff(orientation: orientation, bigEndian: bigEndian))
                let reader = try ImageReader(data: data, path: "turned.jpg")
                #expect(reader.orientation.rawValue == orientation)
                #expect((reader.width, reader.height) == (orientation >= 5 ? (32, 48) : (48, 32)))
                #expect(reader.needsWholeImage == (orientation > 2))
                // Read in bands of 5 rows, as the streaming path does.
                var collected = [UInt8]()
                var band = [UInt8](repeating: 0, count: 5 * reader.width * channels)
                while reader.rowsRead < reader.height {
                    let count = min(5, reader.height - reader.rowsRead)
                    try reader.readRows(count, channels: channels, into: &band)
                    collected += band.prefix(count * reader.width * channels)
                }
                #expect(collected == (try ExifJPEG.shown(stored, orientation: orientation)).pixels)
            }
        }
    }

    @Test("orientation 6 (the usual phone picture) shows 80x120 from a stored 120x80")
    func phonePicture() throws {
        let data = ExifJPEG.withExif(try JPEG.encode(try smoothImage(width: 120, height: 80, channels: 3)),
                                     tiff: ExifJPEG.tiff(orientation: 6, bigEndian: true))
        let image = try ImageReader(data: data, path: "phone.jpg").readImage()
        #expect((image.width, image.height) == (80, 120))
        // Turned 90° clockwise: the stored top-left corner is shown top right, the bottom-left top left.
        let stored = try ImageReader(data: try JPEG.encode(try smoothImage(width: 120, height: 80, channels: 3)), path: "s.jpg").readImage()
        for c in 0..<3 {
            #expect(image[0, 79, c] == stored[0, 0, c])
            #expect(image[0, 0, c] == stored[79, 0, c])
            #expect(image[119, 0, c] == stored[79, 119, c])
        }
    }

    @Test("malformed or missing EXIF data mean orientation 1, never a trap")
    func malformed() throws {
        let plain = try JPEG.encode(try smoothImage(width: 16, height: 8, channels: 1))
        var bad: [[UInt8]] = [[], [0x49], Array("XX".utf8) + [42, 0, 8, 0, 0, 0]]
        var tiff = ExifJPEG.tiff(orientation: 6, bigEndian: false)
        tiff[4] = 0xF0  // IFD0 beyond the data
        bad.append(tiff)
        var wrongType = ExifJPEG.tiff(orientation: 6, bigEndian: false)
        wrongType[24] = 4  // Orientation as LONG
        bad.append(wrongType)
        bad.append(ExifJPEG.tiff(orientation: 9, bigEndian: false))
        bad.append(Array(ExifJPEG.tiff(orientation: 6, bigEndian: true).prefix(25)))  // cut inside the entry
        for tiff in bad {
            let reader = try ImageReader(data: ExifJPEG.withExif(plain, tiff: tiff), path: "odd.jpg")
            #expect(reader.orientation == .up && reader.width == 16 && reader.height == 8)
            _ = try reader.readImage()
        }
        // Thousands of APP1 segments are skipped unread; the first Exif one counts.
        let withExif = ExifJPEG.withExif(plain, tiff: ExifJPEG.tiff(orientation: 8, bigEndian: false))
        let filler = Data([0xFF, 0xE1, 0x01, 0x02] + [UInt8](repeating: 0x41, count: 256))
        var many = Data(withExif.prefix(2))
        for _ in 0..<3000 { many += filler }
        many += withExif.dropFirst(2)
        let reader = try ImageReader(data: many, path: "many.jpg")
        #expect(reader.orientation == .left && reader.width == 8 && reader.height == 16)
    }

    @Test("a turned image too large to hold whole is refused from its header; a mirrored one streams")
    func budget() throws {
        let plain = try JPEG.encode(try smoothImage(width: 64, height: 64, channels: 3))
        let small = ImageReader.Limits(wholeImageBytes: 4096)
        let turned = ExifJPEG.withExif(plain, tiff: ExifJPEG.tiff(orientation: 6, bigEndian: false))
        let error = #expect(throws: DAEError.self) { try ImageReader(data: turned, path: "turned.jpg", limits: small) }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("turned.jpg") && message.contains("EXIF orientation (6)"), "\(message)")
        let mirrored = ExifJPEG.withExif(plain, tiff: ExifJPEG.tiff(orientation: 2, bigEndian: false))
        #expect(try ImageReader(data: mirrored, path: "mirrored.jpg", limits: small).readImage().width == 64)
    }
}
