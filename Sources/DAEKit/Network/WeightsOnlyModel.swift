import DAEFiles
import Foundation

extension DenoisingAutoencoder.Configuration {
    /// A configuration read off weight tensors alone, and how it was found.
    public struct Inferred: Sendable, Equatable {
        /// The configuration (optimizer settings are Keras's defaults).
        public var configuration: DenoisingAutoencoder.Configuration
        /// One line saying what was inferred and what was assumed, for a log
        /// or a command line.
        public var explanation: String
    }

    /// Infers the architecture of a weights-only file (one written by
    /// another framework under DAEKit's names, see the CheckpointFormat
    /// article) from its tensor names and shapes.
    ///
    /// The kernels give the filters, the kernel size, the latent size and
    /// the channels. The input size of an autoencoder comes from the latent
    /// kernel's input dimension `h·w·filters`, assuming a square input and
    /// stride 2 (the tutorial's); pass `inputShape` when the input is not
    /// square or the stride is not 2 (the stride is then derived from it).
    /// A residual model (`denoiser.conv{i}`, `denoiser.output`) runs on any
    /// image size; its training-patch size is `inputShape`, or 40×40.
    ///
    /// ```swift
    /// let file = try SafetensorsFile(contentsOf: url)
    /// let inferred = try DenoisingAutoencoder.Configuration.inferred(fromWeights: file.tensors)
    /// print(inferred.explanation)
    /// // an autoencoder, input 28x28x1 (from encoder.latent.kernel [3136, 16], assuming a square input and stride 2), …
    /// ```
    ///
    /// - Parameters:
    ///   - weights: tensors by name, as ``DenoisingAutoencoder/parameters`` names them.
    ///   - inputShape: `[height, width, channels]` to use instead of the inferred one.
    /// - Throws: `DAEError/invalidArgument(_:)` naming the tensor that does
    ///   not fit (or the names expected when none is DAEKit's).
    public static func inferred(fromWeights weights: [String: Tensor], inputShape: [Int]? = nil) throws -> Inferred {
        if weights["encoder.conv0.kernel"] != nil {
            return try inferredAutoencoder(weights, inputShape: inputShape)
        }
        if weights["denoiser.conv0.kernel"] != nil {
            return try inferredResidual(weights, inputShape: inputShape)
        }
        throw DAEError.invalidArgument(
            "the weights are not named as DAEKit names them (no 'encoder.conv0.kernel' or 'denoiser.conv0.kernel'): "
                + "see the CheckpointFormat article for the names and layouts")
    }

    /// The kernels `\(prefix){0,1,…}.kernel` in order, each checked to be `[k, k, in, out]` with one `k`
    /// and each layer's `in` the previous `out`.
    private static func convolutionKernels(_ weights: [String: Tensor], prefix: String) throws -> [[Int]] {
        var shapes: [[Int]] = []
        while let kernel = weights["\(prefix)\(shapes.count).kernel"] {
            let name = "\(prefix)\(shapes.count).kernel"
            let shape = kernel.shape
            guard shape.count == 4, shape[0] == shape[1], shape.allSatisfy({ $0 > 0 }) else {
                throw DAEError.invalidArgument("'\(name)' has shape \(shape), not a square convolution kernel [k, k, in, out]")
            }
            if let previous = shapes.last {
                guard shape[0] == previous[0] else {
                    throw DAEError.invalidArgument("'\(name)' is \(shape[0])x\(shape[1]) but the kernels before it are \(previous[0])x\(previous[0])")
                }
                guard shape[2] == previous[3] else {
                    throw DAEError.invalidArgument("'\(name)' takes \(shape[2]) channels but the layer before it gives \(previous[3])")
                }
            }
            shapes.append(shape)
        }
        return shapes
    }

    private static func inferredAutoencoder(_ weights: [String: Tensor], inputShape: [Int]?) throws -> Inferred {
        let convolutions = try convolutionKernels(weights, prefix: "encoder.conv")
        let kernelSize = convolutions[0][0], channels = convolutions[0][2]
        let filters = convolutions.map { $0[3] }
        guard let latent = weights["encoder.latent.kernel"] else {
            throw DAEError.invalidArgument("there is no 'encoder.latent.kernel' [h·w·\(filters.last!), latentDim] after the encoder's convolutions")
        }
        guard latent.rank == 2, latent.shape[0] > 0, latent.shape[1] > 0 else {
            throw DAEError.invalidArgument("'encoder.latent.kernel' has shape \(latent.shape), not [h·w·\(filters.last!), latentDim]")
        }
        let (features, latentDim) = (latent.shape[0], latent.shape[1])
        let shapeText = "\(filters.count) convolution\(filters.count == 1 ? "" : "s") of \(filters) filters, "
            + "kernel \(kernelSize)x\(kernelSize), latent \(latentDim)"

        if let inputShape {
            guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
                throw DAEError.invalidArgument("input shape \(inputShape) is not [height, width, channels] with positive sizes")
            }
            guard inputShape[2] == channels else {
                throw DAEError.invalidArgument("input shape \(inputShape) has \(inputShape[2]) channels but 'encoder.conv0.kernel' takes \(channels)")
            }
            // The stride whose bottleneck matches the latent kernel's input.
            let stride = (1...max(1, min(inputShape[0], inputShape[1]))).first { s in
                Self.bottleneckFeatures(inputShape, stride: s, layers: filters.count, filters: filters.last!) == features
            }
            guard let stride else {
                throw DAEError.invalidArgument("input \(inputShape[0])x\(inputShape[1]) does not fit 'encoder.latent.kernel' "
                    + "\(latent.shape): no stride turns it into a bottleneck of \(features) features")
            }
            let configuration = Self(inputShape: inputShape, layerFilters: filters, kernelSize: kernelSize,
                                     latentDim: latentDim, stride: stride)
            return Inferred(configuration: configuration,
                            explanation: "an autoencoder, input \(inputShape.map(String.init).joined(separator: "x")) (given), "
                                + "stride \(stride), \(shapeText)")
        }

        let stride = 2
        guard features % filters.last! == 0 else {
            throw DAEError.invalidArgument("'encoder.latent.kernel' takes \(features) features, not a multiple of the last convolution's \(filters.last!) filters")
        }
        let area = features / filters.last!
        let side = Int(Double(area).squareRoot().rounded())
        guard side * side == area else {
            throw DAEError.invalidArgument("'encoder.latent.kernel' takes \(features) = \(area)·\(filters.last!) features: "
                + "\(area) is not a square bottleneck; give the input shape (for example --input-shape 28,28,\(channels))")
        }
        var inputSide = side
        for _ in filters { inputSide *= stride }
        let configuration = Self(inputShape: [inputSide, inputSide, channels], layerFilters: filters,
                                 kernelSize: kernelSize, latentDim: latentDim, stride: stride)
        return Inferred(configuration: configuration,
                        explanation: "an autoencoder, input \(inputSide)x\(inputSide)x\(channels) (from encoder.latent.kernel "
                            + "\(latent.shape), assuming a square input and stride 2), \(shapeText)")
    }

    /// The default training-patch size of a residual model read from weights
    /// alone: it runs on images of any size, so only training needs one.
    static let residualPatchSide = 40

    private static func inferredResidual(_ weights: [String: Tensor], inputShape: [Int]?) throws -> Inferred {
        let convolutions = try convolutionKernels(weights, prefix: "denoiser.conv")
        let kernelSize = convolutions[0][0], channels = convolutions[0][2]
        let filters = convolutions.map { $0[3] }
        let expected = [kernelSize, kernelSize, filters.last!, channels]
        guard let output = weights["denoiser.output.kernel"] else {
            throw DAEError.invalidArgument("there is no 'denoiser.output.kernel' \(expected) after the residual model's convolutions")
        }
        guard output.shape == expected else {
            throw DAEError.invalidArgument("'denoiser.output.kernel' has shape \(output.shape), expected \(expected) "
                + "(back to the \(channels) input channels)")
        }
        let given = inputShape != nil
        let shape = inputShape ?? [residualPatchSide, residualPatchSide, channels]
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }), shape[2] == channels else {
            throw DAEError.invalidArgument("input shape \(shape) is not [height, width, \(channels)] with positive sizes")
        }
        let configuration = Self(inputShape: shape, layerFilters: filters, kernelSize: kernelSize,
                                 kind: .residual(downsampling: 1, noiseMap: false))
        let size = shape.map(String.init).joined(separator: "x")
        return Inferred(configuration: configuration,
                        explanation: "a residual denoiser of \(filters.count + 1) convolutions (\(filters) filters, then \(channels) "
                            + "channels), kernel \(kernelSize)x\(kernelSize); it runs on images of any size; training patches "
                            + "\(size) (\(given ? "given" : "a default"))")
    }

    /// `h·w·filters` of the bottleneck after `layers` stride-`stride` `same` convolutions, or nil when it overflows.
    private static func bottleneckFeatures(_ inputShape: [Int], stride: Int, layers: Int, filters: Int) -> Int? {
        var (height, width) = (inputShape[0], inputShape[1])
        for _ in 0..<layers {
            height = (height + stride - 1) / stride
            width = (width + stride - 1) / stride
        }
        let (area, o1) = height.multipliedReportingOverflow(by: width)
        let (features, o2) = area.multipliedReportingOverflow(by: filters)
        return o1 || o2 ? nil : features
    }
}

extension DenoisingAutoencoder {
    /// Loads a model file; when its metadata has no configuration (a
    /// weights-only file written by another framework), the architecture is
    /// inferred from the weights (see
    /// ``Configuration/inferred(fromWeights:inputShape:)``).
    ///
    /// - Parameters:
    ///   - url: a safetensors file.
    ///   - inputShape: for a weights-only file, the input shape to use
    ///     instead of the inferred one; ignored for a checkpoint that states
    ///     its configuration.
    /// - Returns: the model, and the explanation of what was inferred (nil
    ///   when the file stated its configuration).
    public static func load(contentsOf url: URL, inputShape: [Int]? = nil) throws -> (model: DenoisingAutoencoder, inferred: String?) {
        try load(SafetensorsFile(contentsOf: url), path: url.path, inputShape: inputShape)
    }

    /// ``load(contentsOf:inputShape:)`` on a parsed file; `path` names it in errors.
    static func load(_ file: SafetensorsFile, path: String, inputShape: [Int]?) throws -> (model: DenoisingAutoencoder, inferred: String?) {
        if file.metadata[CheckpointKeys.configuration] != nil || file.metadata[CheckpointKeys.architecture] != nil {
            return (try DenoisingAutoencoder(statedCheckpoint: file, path: path), nil)
        }
        let inferred: Configuration.Inferred
        do {
            inferred = try Configuration.inferred(fromWeights: file.tensors, inputShape: inputShape)
        } catch let DAEError.invalidArgument(reason) {
            throw DAEError.corruptFile(path: path, reason: "no configuration in the metadata, and none can be inferred from the weights: \(reason)")
        }
        do {
            try inferred.configuration.validate()
            try checkWeightsFit(inferred.configuration, in: file, path: path)
        } catch let DAEError.invalidConfiguration(reason) {
            throw DAEError.corruptFile(path: path, reason: "the configuration inferred from the weights (\(inferred.explanation)) cannot be built: \(reason)")
        }
        var model = try DenoisingAutoencoder(configuration: inferred.configuration, seed: 0)
        // Every tensor of a weights-only file must be one the inferred model uses: a gap in the
        // layer numbers (conv0, conv2 without conv1) would otherwise drop layers without a word.
        let used = Set(model.parameterNames)
        if let unused = file.tensors.keys.sorted().first(where: { !used.contains($0) && !$0.hasPrefix("optimizer.") }) {
            throw DAEError.corruptFile(path: path, reason: "tensor '\(unused.prefix(80))' is not part of the model inferred from the weights "
                + "(\(inferred.explanation)): a layer is missing before it, or it belongs to another model")
        }
        try model.loadWeights(from: file, path: path)
        return (model, inferred.explanation)
    }
}
