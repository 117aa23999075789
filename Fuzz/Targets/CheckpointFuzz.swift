// libFuzzer target: a checkpoint's metadata and architecture, through
// DenoisingAutoencoder(checkpoint:path:) (what init(contentsOf:) runs after
// parsing the safetensors bytes).
//
// The first input byte chooses what the rest is:
//   0: the `architecture` metadata (Keras-style JSON), with ten small weights
//   1: the `configuration` metadata (DAEKit's JSON), with ten small weights
//   2: a `format_version` and `optimizer_step` pair "version,step", on a real checkpoint
//   else: a whole safetensors file
// Loading must throw a DAEError or succeed; a trap, sanitizer report, a
// timeout or an allocation beyond -malloc_limit_mb (a hostile size that got
// through) is a bug. Built by Fuzz/run.sh with all of DAEKit's sources.
import DAELayers
import DAEFiles
import Foundation

private let smallWeights = (0..<10).reduce(into: [String: Tensor]()) { $0["w\($1)"] = Tensor(zeros: [1]) }

/// A real checkpoint (a tiny model after one step), to damage its training state.
private let realCheckpoint: SafetensorsFile = {
    var model = try! DenoisingAutoencoder(
        configuration: .init(inputShape: [4, 4, 1], layerFilters: [1], kernelSize: 1, latentDim: 1), seed: 1)
    model.workers = 1
    let batch = Tensor(zeros: [1, 4, 4, 1])
    _ = try! model.trainStep(noisy: batch, clean: batch)
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fuzz-checkpoint-\(getpid()).safetensors")
    try! model.save(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try! SafetensorsFile(contentsOf: url)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let rest = Data(bytes: start + 1, count: count - 1)
    let text = String(decoding: rest, as: UTF8.self)
    let file: SafetensorsFile
    switch start[0] {
    case 0: file = SafetensorsFile(tensors: smallWeights, metadata: ["architecture": text])
    case 1: file = SafetensorsFile(tensors: smallWeights, metadata: ["configuration": text])
    case 2:
        var damaged = realCheckpoint
        let parts = text.split(separator: ",", maxSplits: 1).map(String.init)
        damaged.metadata["format_version"] = parts.first ?? ""
        damaged.metadata["optimizer_step"] = parts.count > 1 ? parts[1] : ""
        file = damaged
    default:
        guard let parsed = try? SafetensorsFile(data: rest, path: "fuzz.safetensors") else { return 0 }
        file = parsed
    }
    do {
        let model = try DenoisingAutoencoder(checkpoint: file, path: "fuzz.safetensors")
        // Whatever loads holds every weight it needs in the file.
        let held = file.tensors.values.reduce(0) { $0 + $1.count }
        precondition(model.parameterCount <= held, "a model larger than its file was built")
    } catch is DAEError {
        return 0  // rejected with the library's error: the expected outcome for hostile metadata
    } catch {
        preconditionFailure("a checkpoint must fail with DAEError, got: \(error)")
    }
    return 0
}
