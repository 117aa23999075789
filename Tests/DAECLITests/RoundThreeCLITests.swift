@testable import DAEImageIO
import DAEKit
import Foundation
import Testing

/// The third reliability round through `dae denoise`: 16-bit output, images
/// that cannot be streamed within the budget, a very wide image through the
/// tutorial autoencoder, a name that is not UTF-8.
@Suite(.enabled(if: CLITool.isBuilt, "the dae binary is not built: run 'swift build --product dae' first"))
struct RoundThreeCLITests {
    /// `png` (8-bit gray, not interlaced) with IHDR's interlace method set to Adam7 (the data are not re-laid: refused before them).
    static func interlaced(_ png: Data) -> Data {
        var data = png
        data[28] = 1
        let crc = HostileImageTests.crc32(Array(data[12..<29]))
        data.replaceSubrange(29..<33, with: withUnsafeBytes(of: crc.bigEndian, Array.init))
        return data
    }

    /// `jpeg` with the sides in its SOF marker (baseline C0, progressive C2) replaced.
    static func jpegClaiming(width: Int, height: Int, in jpeg: Data) -> Data {
        var data = jpeg
        let bytes = [UInt8](jpeg)
        guard let sof = bytes.indices.dropLast().first(where: { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }) else {
            return data
        }
        data.replaceSubrange((sof + 5)..<(sof + 9), with: [UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF)])
        return data
    }

    @Test func aSixteenBitPNGComesOutSixteenBit() throws {
        try withTemporaryDirectory("deep") { directory in
            let (width, height) = (400, 30)
            let samples = (0..<(width * height)).map { UInt16(($0 % width) * 150 + $0 / width) }
            let input = directory.appendingPathComponent("deep.png")
            let writer = try PNGRowWriter(url: input, width: width, height: height, channels: 1, bitDepth: 16)
            try samples.withUnsafeBufferPointer { try writer.write(rows: $0, count: height) }
            try writer.finish()
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path,
                                          "--output", directory.path, "--workers", "1"])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stdout.contains("400x30, 16-bit"), "\(result.diagnostics)")
            #expect(!result.stderr.contains("8-bit"), "\(result.diagnostics)")
            let reader = try ImageReader(contentsOf: directory.appendingPathComponent("deep-denoised.png"))
            #expect(reader.sourceBitDepth == 16 && reader.width == width && reader.height == height)
            var values = [Float](repeating: 0, count: width * height)
            try reader.readRows(height, channels: 1, into: &values)
            #expect(Set(values).count > 256)
        }
    }

    @Test func imagesThatCannotStreamWithinTheBudgetAreRefusedFromTheirHeader() throws {
        try withTemporaryDirectory("unstreamable") { directory in
            // An interlaced 36000 x 36000 gray PNG: 1.3 GB decoded whole.
            let interlaced = directory.appendingPathComponent("interlaced.png")
            try Self.interlaced(HostileImageTests.pngClaiming(width: 36000, height: 36000)).write(to: interlaced)
            let model = try Fixtures.modelURL().path
            CLITool.expectOneLineError(try CLITool.run(["denoise", "--model", model, interlaced.path, "--output", directory.path]),
                                       containing: ["interlaced.png", "interlaced PNG", "1236 MiB", "512 MiB allowed"])
            // A progressive JPEG declaring 33000 x 33000: 2.2 GB of coefficients.
            let small = try JPEG.encode(try Image(width: 64, height: 64, channels: 1, repeating: 90), quality: 80, scans: .progressive)
            let progressive = directory.appendingPathComponent("progressive.jpg")
            try Self.jpegClaiming(width: 33000, height: 33000, in: small).write(to: progressive)
            CLITool.expectOneLineError(try CLITool.run(["denoise", "--model", model, progressive.path, "--output", directory.path]),
                                       containing: ["progressive.jpg", "progressive", "2078 MiB"])
            // Hundreds of scans: refused at the 101st.
            let scans = directory.appendingPathComponent("scans.jpg")
            try JPEG.encode(try Image(width: 64, height: 64, channels: 1, repeating: 90), quality: 80, scans: .manyScans).write(to: scans)
            CLITool.expectOneLineError(try CLITool.run(["denoise", "--model", model, scans.path, "--output", directory.path]),
                                       containing: ["scans.jpg", "more than 100 scans"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                    == ["interlaced.png", "progressive.jpg", "scans.jpg"])
        }
    }

    @Test func aVeryWideRowGoesThroughTheTutorialModelInLittleMemory() throws {
        try withTemporaryDirectory("wide") { directory in
            let width = 250_000
            let input = directory.appendingPathComponent("wide.png")
            let writer = try PNGRowWriter(url: input, width: width, height: 1, channels: 1)
            try (0..<width).map { UInt8(truncatingIfNeeded: $0 &* 7) }.withUnsafeBufferPointer { try writer.write(rows: $0, count: 1) }
            try writer.finish()
            let timer = FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? ["/usr/bin/time", "-f", "maxrss-kb %M"] : []
            let result = try CLITool.run(["denoise", "--model", try Fixtures.modelURL().path, input.path,
                                          "--output", directory.path, "--workers", "1"], launcher: timer)
            try #require(result.status == 0, "\(result.diagnostics)")
            let image = try PNG.read(contentsOf: directory.appendingPathComponent("wide-denoised.png"))
            #expect(image.width == width && image.height == 1)
            // Before: 1.6 GB for 1 000 000 columns, about 400 MB for these 250 000; now tens of MB.
            if let line = result.stderrLines.last(where: { $0.hasPrefix("maxrss-kb ") }), let kilobytes = Int(line.dropFirst(10)) {
                #expect(kilobytes < 256 * 1024, "\(kilobytes) kB resident")
            }
        }
    }

    @Test func aFileNamedWithByte0xFFIsDenoised() throws {
        try withTemporaryDirectory("bytes") { directory in
            try PNG.write(try Image(width: 30, height: 30, channels: 1, repeating: 100), to: directory.appendingPathComponent("plain.png"))
            // The shell passes the name's bytes; Swift's own arguments cannot hold 0xFF.
            let script = #"mv plain.png "$(printf 'caf\377.png')" && exec "$0" denoise --model "$1" "$(printf 'caf\377.png')" --output out"#
            let result = try CLITool.run([try Fixtures.modelURL().path], in: directory, launcher: ["/bin/sh", "-c", script])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stdout.contains("caf\u{FFFD}-denoised.png"), "\(result.diagnostics)")
            let image = try PNG.read(contentsOf: directory.appendingPathComponent("out/caf\u{FFFD}-denoised.png"))
            #expect(image.width == 30)
        }
    }

    @Test func aFolderWithANonUTF8NameListsEveryImage() throws {
        try withTemporaryDirectory("folder-bytes") { directory in
            let folder = directory.appendingPathComponent("photos")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for name in ["a.png", "plain.png", "c.png"] {
                try PNG.write(try Image(width: 40, height: 40, channels: 3, repeating: 120), to: folder.appendingPathComponent(name))
            }
            let script = #"mv photos/plain.png "photos/$(printf 'b\377.png')" && exec "$0" train --images photos --epochs 1 --patch-size 16 --patches-per-epoch 8 --checkpoint m.safetensors --workers 1"#
            let result = try CLITool.run([], in: directory, launcher: ["/bin/sh", "-c", script])
            try #require(result.status == 0, "\(result.diagnostics)")
            #expect(result.stderr.contains("images: 3 in"), "\(result.diagnostics)")
            #expect(result.stderr.contains("training: 2 images"), "\(result.diagnostics)")
        }
    }
}
