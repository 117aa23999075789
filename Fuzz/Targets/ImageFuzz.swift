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
    do {
        // Small limits keep each input fast; sizes beyond them are refused, not allocated.
        let reader = try ImageReader(data: data, path: "fuzz-image")
        precondition(reader.width > 0 && reader.height > 0 && (reader.channels == 1 || reader.channels == 3))
        let image = try reader.readImage(channels: 3, maximumBytes: 1 << 24)
        precondition(image.pixels.count == reader.width * reader.height * 3, "decoded size does not match the header")
    } catch DAEError.corruptFile(let path, _) {
        precondition(path == "fuzz-image", "the error does not name the input")
    } catch {
        preconditionFailure("malformed input must throw corruptFile, got: \(error)")
    }
    return 0
}
