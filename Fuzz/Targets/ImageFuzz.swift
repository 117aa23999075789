// libFuzzer target: ImageReader(data:path:) and a full decode, on arbitrary bytes.
//
// PNG (libpng) and JPEG (libjpeg-turbo) are told apart by signature, so one
// target covers both decoders and the C shim that keeps their longjmp-based
// error handling away from Swift. Built by Fuzz/run.sh with DAEImageIO's
// reader sources and the instrumented C shim (Sources/CImageCodecs), linked
// against the system's libpng and libjpeg.
import DAELayers
import DAEFiles
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    // The EXIF parser on raw bytes too (as if they followed "Exif\0\0").
    _ = data.withUnsafeBytes { ExifOrientation.parse(tiff: $0) }
    do {
        // Small limits keep each input fast; sizes beyond them are refused, not allocated.
        // The seeds include progressive, multi-scan (one scan per component) and
        // many-scan JPEGs, an EXIF orientation, 16-bit and interlaced PNGs.
        let limits = ImageReader.Limits(wholeImageBytes: 1 << 24, maximumScans: 50)
        let reader = try ImageReader(data: data, path: "fuzz-image", limits: limits)
        precondition(reader.width > 0 && reader.height > 0 && (reader.channels == 1 || reader.channels == 3))
        let image = try reader.readImage(channels: 3, maximumBytes: 1 << 24)
        precondition(image.pixels.count == reader.width * reader.height * 3, "decoded size does not match the header")
        // The same file as Float rows (full precision for 16-bit samples), in bands of 3 rows.
        let rows = try ImageReader(data: data, path: "fuzz-image", limits: limits)
        var band = [Float](repeating: 0, count: 3 * rows.width)
        while rows.rowsRead < rows.height {
            try rows.readRows(min(3, rows.height - rows.rowsRead), channels: 1, into: &band)
            precondition(band.allSatisfy { $0 >= 0 && $0 <= 1 }, "a sample outside [0, 1]")
        }
    } catch DAEError.corruptFile(let path, _) {
        precondition(path == "fuzz-image", "the error does not name the input")
    } catch {
        preconditionFailure("malformed input must throw corruptFile, got: \(error)")
    }
    return 0
}
