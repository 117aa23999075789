import DAEFiles
import DAELayers
import Foundation

extension DenoisingAutoencoder {
    /// The architecture of a denoising autoencoder and its optimizer settings.
    ///
    /// The encoder is one `Conv2D(filters, kernelSize, stride 2, same, ReLU)`
    /// per entry of ``layerFilters``, a flatten and a linear `Dense(latentDim)`.
    /// The decoder mirrors it: a linear `Dense` back to the last feature
    /// map, a reshape, one `Conv2DTranspose(filters, kernelSize, stride 2,
    /// same, ReLU)` per entry in reverse order, and a stride-1
    /// `Conv2DTranspose` with one filter per input channel and a sigmoid.
    ///
    /// The default is the Keras tutorial's model:
    ///
    /// ```swift
    /// let tutorial = DenoisingAutoencoder.Configuration()
    /// // inputShape [28, 28, 1], layerFilters [32, 64], kernelSize 3, latentDim 16
    /// let rgb = DenoisingAutoencoder.Configuration(inputShape: [32, 32, 3], layerFilters: [32, 64, 128],
    ///                                              kernelSize: 5, latentDim: 64)
    /// ```
    public struct Configuration: Sendable, Equatable, Hashable, Codable {
        /// The two network shapes a configuration can describe.
        public enum Architecture: String, Sendable, Codable, CaseIterable {
            /// The tutorial's autoencoder: strided convolutions, a Dense
            /// bottleneck of ``Configuration/latentDim``, transposed
            /// convolutions back, a sigmoid. Runs on images of exactly
            /// ``Configuration/inputShape`` (larger images are tiled).
            case autoencoder
            /// A fully convolutional residual denoiser (DnCNN-style): one
            /// `Conv2D(filters, kernelSize, stride 1, same, ReLU)` per entry of
            /// ``Configuration/layerFilters`` (`denoiser.conv{i}`), then a linear
            /// `Conv2D(channels)` (`denoiser.output`) that predicts the noise;
            /// the output is `clip(input − prediction, 0, 1)`. It trains on
            /// patches of ``Configuration/inputShape`` and runs on images of
            /// any size; ``Configuration/latentDim`` and ``Configuration/stride``
            /// are not used (stride must be 1).
            case residual
        }

        /// `[height, width, channels]` of one image (for a ``Architecture/residual``
        /// model: of one training patch).
        public var inputShape: [Int]
        /// Filters of each encoder convolution, input side first.
        public var layerFilters: [Int]
        /// Side of every (square) kernel; odd.
        public var kernelSize: Int
        /// Size of the latent vector.
        public var latentDim: Int
        /// Stride of the encoder's convolutions and the decoder's matching transposed convolutions.
        public var stride: Int
        /// Adam's hyper-parameters (Keras's defaults).
        public var optimizer: Adam.Settings
        /// The network's shape: the tutorial's autoencoder (the default) or a residual denoiser.
        public var architecture: Architecture
        /// A residual model's pixel-unshuffle factor: 2 runs its convolutions
        /// on `2 × 2` blocks folded into channels (`denoiser.downsample`,
        /// `SpaceToDepth`), a quarter of the pixels, and unfolds the output
        /// (`denoiser.upsample`, `DepthToSpace`); 1 (the default) has neither.
        public var downsampling: Int
        /// Whether a residual model takes a noise-level map: one extra input
        /// channel holding the noise std σ (in [0, 1] units) at every pixel,
        /// so that its strength can be set (FFDNet's design). Training fills
        /// it with each patch's σ; ``DenoisingAutoencoder/denoise(_:noiseLevel:)``
        /// with the given or estimated level.
        public var noiseMap: Bool
        /// How a new residual model's convolution kernels are drawn: Glorot
        /// uniform (Keras's default, the tutorial's and the photo preset's) or
        /// He uniform (the ``ffdnet(channels:)`` preset: a dozen ReLU layers
        /// without normalisation barely train from Glorot's weights).
        public var kernelInitializer: KernelInitializer = .glorotUniform
        /// A configuration; the defaults are the Keras tutorial's model.
        public init(inputShape: [Int] = [28, 28, 1], layerFilters: [Int] = [32, 64], kernelSize: Int = 3,
                    latentDim: Int = 16, stride: Int = 2, optimizer: Adam.Settings = Adam.Settings(),
                    architecture: Architecture = .autoencoder) {
            self.init(inputShape: inputShape, layerFilters: layerFilters, kernelSize: kernelSize, latentDim: latentDim,
                      stride: stride, optimizer: optimizer, architecture: architecture, downsampling: 1, noiseMap: false)
        }

        /// A configuration with a residual model's pixel-unshuffle factor and noise-level map.
        public init(inputShape: [Int], layerFilters: [Int], kernelSize: Int, latentDim: Int, stride: Int,
                    optimizer: Adam.Settings = Adam.Settings(), architecture: Architecture, downsampling: Int, noiseMap: Bool) {
            self.inputShape = inputShape
            self.layerFilters = layerFilters
            self.kernelSize = kernelSize
            self.latentDim = latentDim
            self.stride = stride
            self.optimizer = optimizer
            self.architecture = architecture
            self.downsampling = downsampling
            self.noiseMap = noiseMap
        }

        /// The photo preset: a residual denoiser of 7 convolutions 3×3 (6 of
        /// 48 filters with ReLU, one linear back to `channels`), trained on
        /// 40×40 patches; 105 k parameters for RGB, receptive field 15×15.
        /// See the "Denoising your own images" article for why this size.
        public static func photo(channels: Int = 3) -> Configuration {
            Configuration(inputShape: [40, 40, channels], layerFilters: Array(repeating: 48, count: 6), kernelSize: 3,
                          latentDim: 0, stride: 1, architecture: .residual)
        }

        /// The built-in photo denoiser's architecture, FFDNet-style (Zhang,
        /// Zuo and Zhang, 2018): the image and a noise-level map
        /// (``noiseMap``) are folded into `2 × 2` blocks (``downsampling``),
        /// 11 convolutions 3×3 of 64 filters with ReLU and a linear one run at
        /// half resolution, and the result is unfolded back; like the photo
        /// preset it predicts the noise, and the output is
        /// `clip(input − prediction, 0, 1)`. 376 k parameters for RGB, about
        /// the photo preset's cost per pixel (94 k multiply-adds), a receptive
        /// field of 49×49; trained on 64×64 patches.
        public static func ffdnet(channels: Int = 3) -> Configuration {
            var configuration = Configuration(inputShape: [64, 64, channels], layerFilters: Array(repeating: 64, count: 11),
                                              kernelSize: 3, latentDim: 0, stride: 1, architecture: .residual,
                                              downsampling: 2, noiseMap: true)
            configuration.kernelInitializer = .heUniform
            return configuration
        }

        /// The built-in photo denoiser's architecture: a residual denoiser
        /// with a noise-level map (``noiseMap``: the image plus one channel
        /// holding the noise std), 9 convolutions 3×3 of 48 filters with ReLU
        /// and a linear one back to `channels`, He-uniform initial kernels,
        /// trained on 48×48 patches. 169 347 parameters for RGB, about 169 k
        /// multiply-adds per pixel, a receptive field of 21×21. It predicts
        /// the noise; the output is `clip(input − prediction, 0, 1)`, and the
        /// noise level sets its strength (``DenoisingAutoencoder/denoise(_:noiseLevel:)``).
        ///
        /// Why not ``ffdnet(channels:)``'s pixel unshuffle: measured here, the
        /// unshuffled network learned several times more slowly per step from
        /// the same photographs (Docs/Results.md, "Choosing the architecture").
        public static func builtInPhoto(channels: Int = 3) -> Configuration {
            var configuration = Configuration(inputShape: [48, 48, channels], layerFilters: Array(repeating: 48, count: 9),
                                              kernelSize: 3, latentDim: 0, stride: 1, architecture: .residual,
                                              downsampling: 1, noiseMap: true)
            configuration.kernelInitializer = .heUniform
            return configuration
        }

        /// What a network's output is trained to be.
        public enum Target: Sendable, Equatable {
            /// The clean image itself (the autoencoder, whose last layer is a sigmoid).
            case image
            /// The noise: the denoised image is `clip(input − prediction, 0, 1)`, and
            /// training targets `noisy − clean` (the residual models).
            case noise
        }

        /// How a model runs on an image of another size than its training input.
        public enum TilingStrategy: Sendable, Equatable {
            /// Fully convolutional: any size, cut into tiles that each carry a halo
            /// of the receptive field, so the result is that of one pass (the residual models).
            case haloTiles
            /// A fixed input size: overlapping tiles of exactly that size, blended
            /// with smooth weights (the autoencoder).
            case blendedTiles
        }

        /// What this model's output is: the clean image or the noise (``Target``).
        public var target: Target { architecture == .residual ? .noise : .image }
        /// How this model runs on images of any size (``TilingStrategy``).
        public var tilingStrategy: TilingStrategy { architecture == .residual ? .haloTiles : .blendedTiles }
        /// Whether the model has a latent space, so that ``DenoisingAutoencoder/encode(_:)``
        /// and ``DenoisingAutoencoder/decode(_:)`` apply.
        public var hasLatentSpace: Bool { decoderStart != nil }

        /// The shape `[h, w, c]` of one example the network itself takes: the
        /// image, plus the noise-level channel when the model has a ``noiseMap``.
        public var networkInputShape: [Int] {
            guard inputShape.count == 3, noiseMap else { return inputShape }
            return [inputShape[0], inputShape[1], inputShape[2] + 1]
        }

        /// Pixels a residual model's output depends on around each side of a
        /// pixel: `(kernelSize − 1) / 2` per convolution, times the
        /// ``downsampling`` factor (0 for an autoencoder, whose output depends
        /// on its whole input).
        public var receptiveRadius: Int {
            architecture == .residual ? (layerSpecs.receptiveRadius ?? 0) : 0
        }

        /// The network as a list of layers, input side first: every layer the
        /// model builds, and the source of its parameter count, memory
        /// estimate and summary.
        ///
        /// - The autoencoder: `encoder.conv{i}` (Conv2D, stride ``stride``,
        ///   ReLU), `encoder.flatten`, `encoder.latent` (Dense), `decoder.dense`,
        ///   `decoder.reshape`, `decoder.deconv{i}` (Conv2DTranspose, ReLU) and
        ///   `decoder.output` (Conv2DTranspose, stride 1, sigmoid).
        /// - A residual model: `denoiser.downsample` (SpaceToDepth, when
        ///   ``downsampling`` > 1), `denoiser.conv{i}` (Conv2D, stride 1,
        ///   ReLU), `denoiser.output` (linear Conv2D to the image's channels
        ///   times ``downsampling``²) and `denoiser.upsample` (DepthToSpace).
        public var layerSpecs: [LayerSpec] {
            let k = kernelSize
            let channels = inputShape.count == 3 ? inputShape[2] : 1
            switch architecture {
            case .residual:
                let b = max(downsampling, 1)
                var specs: [LayerSpec] = b > 1 ? [LayerSpec("denoiser.downsample", .spaceToDepth(block: b))] : []
                specs += layerFilters.enumerated().map { i, filters in
                    LayerSpec("denoiser.conv\(i)", .conv2D(filters: filters, kernelSize: k, stride: 1), activation: .relu,
                              kernelInitializer: kernelInitializer)
                }
                specs.append(LayerSpec("denoiser.output", .conv2D(filters: channels * b * b, kernelSize: k, stride: 1),
                                       kernelInitializer: kernelInitializer))
                if b > 1 { specs.append(LayerSpec("denoiser.upsample", .depthToSpace(block: b))) }
                return specs
            case .autoencoder:
                var specs = layerFilters.enumerated().map { i, filters in
                    LayerSpec("encoder.conv\(i)", .conv2D(filters: filters, kernelSize: k, stride: stride), activation: .relu)
                }
                let bottleneck = bottleneckShape
                specs += [LayerSpec("encoder.flatten", .flatten), LayerSpec("encoder.latent", .dense(units: latentDim)),
                          LayerSpec("decoder.dense", .dense(units: CheckedSum.product(bottleneck) ?? 0)),
                          LayerSpec("decoder.reshape", .reshape(to: bottleneck))]
                specs += layerFilters.reversed().enumerated().map { i, filters in
                    LayerSpec("decoder.deconv\(i)", .conv2DTranspose(filters: filters, kernelSize: k, stride: stride), activation: .relu)
                }
                specs.append(LayerSpec("decoder.output", .conv2DTranspose(filters: channels, kernelSize: k, stride: 1), activation: .sigmoid))
                return specs
            }
        }

        /// Index of the first decoder layer in ``layerSpecs`` (`decoder.dense`),
        /// or nil for a model without a latent space.
        var decoderStart: Int? {
            architecture == .autoencoder ? layerSpecs.firstIndex { $0.name == "decoder.dense" } : nil
        }

        private enum CodingKeys: String, CodingKey {
            case inputShape, layerFilters, kernelSize, latentDim, stride, optimizer, architecture, downsampling, noiseMap
            case kernelInitializer
        }

        /// Decodes a configuration; `architecture`, `downsampling` and
        /// `noiseMap` may be absent (checkpoints written before they existed
        /// are autoencoders, or residual models without either).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(inputShape: try c.decode([Int].self, forKey: .inputShape),
                      layerFilters: try c.decode([Int].self, forKey: .layerFilters),
                      kernelSize: try c.decode(Int.self, forKey: .kernelSize),
                      latentDim: try c.decode(Int.self, forKey: .latentDim),
                      stride: try c.decode(Int.self, forKey: .stride),
                      optimizer: try c.decode(Adam.Settings.self, forKey: .optimizer),
                      architecture: try c.decodeIfPresent(Architecture.self, forKey: .architecture) ?? .autoencoder,
                      downsampling: try c.decodeIfPresent(Int.self, forKey: .downsampling) ?? 1,
                      noiseMap: try c.decodeIfPresent(Bool.self, forKey: .noiseMap) ?? false)
            kernelInitializer = try c.decodeIfPresent(KernelInitializer.self, forKey: .kernelInitializer) ?? .glorotUniform
        }

        /// Encodes a configuration; `downsampling` and `noiseMap` only when
        /// they differ from the defaults, so that earlier readers and the
        /// checkpoints of earlier models stay byte for byte the same.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(inputShape, forKey: .inputShape)
            try c.encode(layerFilters, forKey: .layerFilters)
            try c.encode(kernelSize, forKey: .kernelSize)
            try c.encode(latentDim, forKey: .latentDim)
            try c.encode(stride, forKey: .stride)
            try c.encode(optimizer, forKey: .optimizer)
            try c.encode(architecture, forKey: .architecture)
            if downsampling != 1 { try c.encode(downsampling, forKey: .downsampling) }
            if noiseMap { try c.encode(noiseMap, forKey: .noiseMap) }
            if kernelInitializer != .glorotUniform { try c.encode(kernelInitializer, forKey: .kernelInitializer) }
        }

        /// Throws `DAEError/invalidConfiguration(_:)` naming the first problem:
        /// a shape that is not `[height, width, channels]`, zero channels, empty
        /// or non-positive filters, an even or non-positive kernel, a latent
        /// size below 1, an input the strides cannot halve exactly (the
        /// decoder must give back the input's size), or a model too large for
        /// ``ResourceLimits/memoryBudget`` (see ``checkResources(batch:)``).
        public func validate() throws {
            guard inputShape.count == 3 else {
                throw DAEError.invalidConfiguration("inputShape \(inputShape) must be [height, width, channels]")
            }
            let (height, width, channels) = (inputShape[0], inputShape[1], inputShape[2])
            guard height > 0, width > 0 else {
                throw DAEError.invalidConfiguration("input size \(height)x\(width) must be positive")
            }
            guard channels > 0 else { throw DAEError.invalidConfiguration("input channels must be positive, got \(channels)") }
            guard !layerFilters.isEmpty else { throw DAEError.invalidConfiguration("layerFilters is empty: the encoder needs at least one convolution") }
            if let bad = layerFilters.first(where: { $0 <= 0 }) {
                throw DAEError.invalidConfiguration("layerFilters \(layerFilters) holds \(bad); every entry must be positive")
            }
            guard kernelSize > 0, kernelSize % 2 == 1 else {
                throw DAEError.invalidConfiguration("kernelSize must be a positive odd number, got \(kernelSize)")
            }
            if architecture == .residual {
                guard stride == 1 else {
                    throw DAEError.invalidConfiguration("a residual model's convolutions have stride 1, got stride \(stride)")
                }
                guard downsampling >= 1, downsampling <= 8 else {
                    throw DAEError.invalidConfiguration("downsampling must be in 1...8, got \(downsampling)")
                }
                guard height % downsampling == 0, width % downsampling == 0 else {
                    throw DAEError.invalidConfiguration("training patches of \(height)x\(width) are not multiples of the downsampling \(downsampling)")
                }
                try optimizer.validate()
                try checkResources()  // sizes and memory, before anything is allocated (ResourceLimits.swift)
                return
            }
            guard downsampling == 1, !noiseMap else {
                throw DAEError.invalidConfiguration("downsampling and a noise map are for residual models; an autoencoder has neither")
            }
            guard latentDim > 0 else { throw DAEError.invalidConfiguration("latentDim must be positive, got \(latentDim)") }
            guard stride > 0 else { throw DAEError.invalidConfiguration("stride must be positive, got \(stride)") }
            let (factor, overflow) = layerFilters.reduce((1, false)) { acc, _ in
                let (next, o) = acc.0.multipliedReportingOverflow(by: stride)
                return (next, acc.1 || o)
            }
            guard !overflow, height % factor == 0, width % factor == 0, height / factor >= 1, width / factor >= 1 else {
                throw DAEError.invalidConfiguration(
                    "input \(height)x\(width) is too small for, or not divisible by, \(layerFilters.count) stride-\(stride) convolutions "
                        + "(needs multiples of \(overflow ? "an overflowing factor" : String(factor))): the decoder could not give back the input size")
            }
            try optimizer.validate()
            try checkResources()  // sizes and memory, before anything is allocated (ResourceLimits.swift)
        }

        /// The shape `[h, w, c]` of the last encoder feature map (of the last
        /// hidden convolution for a residual model).
        public var bottleneckShape: [Int] {
            let factor = layerFilters.reduce(1) { acc, _ in acc * stride }
            return [inputShape[0] / factor, inputShape[1] / factor, layerFilters.last ?? 0]
        }

        /// The `architecture` metadata entry, as the Keras reference vectors
        /// and Keras-side tools write it: `input_shape`, `layer_filters`,
        /// `kernel_size`, `strides` (default 2, or 1 for a residual model),
        /// `latent_dim` (not used by a residual model), and `kind` (absent
        /// for the autoencoder, `"residual"`). Other keys (such as `batch`) are ignored.
        struct ArchitectureEntry: Codable, Equatable {
            var inputShape: [Int]
            var layerFilters: [Int]
            var kernelSize: Int
            var strides: Int?
            var latentDim: Int?
            var kind: String?
            /// A residual model's pixel-unshuffle factor (absent: 1).
            var downsampling: Int?
            /// Whether a residual model takes a noise-level map (absent: no).
            var noiseMap: Bool?

            enum CodingKeys: String, CodingKey {
                case inputShape = "input_shape", layerFilters = "layer_filters", kernelSize = "kernel_size"
                case strides, latentDim = "latent_dim", kind, downsampling, noiseMap = "noise_map"
            }
        }

        /// The architecture as the reference vectors' `architecture` metadata writes it.
        var architectureJSON: String {
            let entry = ArchitectureEntry(inputShape: inputShape, layerFilters: layerFilters, kernelSize: kernelSize,
                                          strides: stride, latentDim: latentDim,
                                          kind: architecture == .autoencoder ? nil : architecture.rawValue,
                                          downsampling: downsampling == 1 ? nil : downsampling, noiseMap: noiseMap ? true : nil)
            return (try? JSONCoding.string(entry)) ?? "{}"
        }

        /// Reads an `architecture` JSON object (see ``ArchitectureEntry``). Sizes
        /// must be JSON integers: `true` or `2.9` are refused.
        init(architectureJSON text: String, path: String) throws {
            let entry: ArchitectureEntry
            do {
                entry = try JSONCoding.decode(ArchitectureEntry.self, from: text)
            } catch {
                throw DAEError.corruptFile(path: path, reason: "metadata 'architecture' is not a JSON object with the integers "
                    + "input_shape, layer_filters, kernel_size, latent_dim (and optionally strides): \(Self.reason(error))")
            }
            var architecture = Architecture.autoencoder
            if let kind = entry.kind {
                guard let value = Architecture(rawValue: kind) else {
                    throw DAEError.corruptFile(path: path, reason: "metadata 'architecture' has the unknown kind '\(kind.prefix(40))' (autoencoder or residual)")
                }
                architecture = value
            }
            guard entry.latentDim != nil || architecture == .residual else {
                throw DAEError.corruptFile(path: path, reason: "metadata 'architecture' lacks the integer 'latent_dim'")
            }
            self.init(inputShape: entry.inputShape, layerFilters: entry.layerFilters, kernelSize: entry.kernelSize,
                      latentDim: entry.latentDim ?? 0,
                      stride: entry.strides ?? (architecture == .residual ? 1 : 2), architecture: architecture,
                      downsampling: entry.downsampling ?? 1, noiseMap: entry.noiseMap ?? false)
        }

        /// What a decoding error says, in a few words (the key it concerns).
        static func reason(_ error: any Error) -> String {
            switch error as? DecodingError {
            case let .keyNotFound(key, _)?: return "'\(key.stringValue)' is missing"
            case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
                return "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
            case let .dataCorrupted(context)?:
                return context.codingPath.isEmpty ? "not valid JSON"
                    : "'\(context.codingPath.map(\.stringValue).joined(separator: "."))' is not an integer"
            default: return "not valid JSON"
            }
        }
    }
}
