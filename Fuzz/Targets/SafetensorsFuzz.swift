// libFuzzer target: SafetensorsFile(data:path:) on arbitrary bytes.
//
// The parser's contract is "throw, never trap": any crash, sanitizer report,
// leak or timeout found here is a bug. Built by Fuzz/run.sh together with
// DAELayers' sources (instrumented with -sanitize=fuzzer,address).
import DAELayers
import DAEFiles
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    let file: SafetensorsFile
    do {
        file = try SafetensorsFile(data: data, path: "fuzz.safetensors")
    } catch DAEError.corruptFile(let path, _) {
        // Rejected with the documented error: the expected outcome for malformed input.
        precondition(path == "fuzz.safetensors", "the error does not name the file")
        return 0
    } catch {
        preconditionFailure("malformed input must throw corruptFile, got: \(error)")
    }
    // A file that parses must serialize and parse back to the same names, shapes and metadata.
    do {
        let again = try SafetensorsFile(data: try file.serialized(), path: "fuzz-roundtrip.safetensors")
        precondition(again.tensors.mapValues(\.shape) == file.tensors.mapValues(\.shape), "round trip changed the tensors")
        precondition(again.metadata == file.metadata, "round trip changed the metadata")
    } catch {
        preconditionFailure("an accepted file failed to round-trip: \(error)")
    }
    return 0
}
