// libFuzzer target: IDXFile(data:path:) on arbitrary bytes, plain and gzip.
//
// Inputs starting with 0x1f 0x8b take the gzip path (zlib streaming
// inflater); everything else the plain path. Built by Fuzz/run.sh together
// with DAELayers' sources and DAEKit's IDX reader (Sources/DAEKit/Data/IDX*.swift,
// GzipInflater.swift), instrumented with -sanitize=fuzzer,address.
import DAELayers
import DAEFiles
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    do {
        let file = try IDXFile(data: data, path: "fuzz-idx3-ubyte")
        precondition((1...4).contains(file.dimensions.count), "accepted rank \(file.dimensions.count)")
        precondition(file.dimensions.reduce(1, *) == file.bytes.count, "accepted dimensions that do not match the bytes")
    } catch DAEError.corruptFile(let path, _) {
        // Rejected with the documented error: the expected outcome for malformed input.
        precondition(path == "fuzz-idx3-ubyte", "the error does not name the file")
    } catch {
        preconditionFailure("malformed input must throw corruptFile, got: \(error)")
    }
    return 0
}
