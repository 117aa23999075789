import DAEKit
import Foundation

/// Loading a model for `evaluate`, `denoise`, `summary` and `train --resume`,
/// with messages that name the file.
enum ModelFile {
    /// Loads the checkpoint at `path`. A weights-only file (another
    /// framework's, under DAEKit's names) loads with the architecture
    /// inferred from its weights, `inputShape` overriding the inferred input
    /// size; a note on stderr says what was inferred.
    ///
    /// - Throws: ``CLIError`` when there is no file, or the library's
    ///   ``DAEError`` (corrupt file, tensors of another configuration, …).
    static func load(_ path: String, flag: String = "--model", inputShape: [Int]? = nil) throws -> DenoisingAutoencoder {
        let url = FileSystem.url(path)
        guard FileSystem.exists(url) else {
            throw CLIError("no model file at \(url.path) (\(flag)); train one with 'dae train' or 'dae demo'")
        }
        guard !FileSystem.isDirectory(url) else {
            throw CLIError("\(url.path) is a directory, not a model file (\(flag))")
        }
        let (model, inferred) = try DenoisingAutoencoder.load(contentsOf: url, inputShape: inputShape)
        if let inferred {
            Console.note("\(url.path) holds weights only (no configuration in its metadata); inferred \(inferred)")
        }
        return model
    }

    /// Throws unless the model takes images of the data set's shape.
    static func checkCompatible(_ model: DenoisingAutoencoder, modelPath: String, with data: ImageDataset, in directory: URL) throws {
        guard model.configuration.inputShape == data.imageShape else {
            throw CLIError("the model \(modelPath) takes \(model.configuration.shapeText) images but the data set in "
                + "\(directory.path) holds \(data.shapeText) images: a model of another configuration")
        }
    }

    /// Runs `body` (inference with the model at `path`), naming the model
    /// file when its output is not finite (`DenoisingAutoencoder` throws
    /// `DAEError.invalidValue` with ``DenoisingAutoencoder/nonFiniteOutputSubject``).
    static func namingModel<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let DAEError.invalidValue(what, reason) where what == DenoisingAutoencoder.nonFiniteOutputSubject {
            throw DAEError.invalidValue("the model \(path)", reason: reason)
        }
    }
}
