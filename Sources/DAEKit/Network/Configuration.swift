import DAEFiles
import DAELayers
import Foundation

extension DenoisingAutoencoder {
    /// The architecture of a denoising model and its optimizer settings.
    ///
    /// Every configuration states its network's ``kind``: an
    /// ``NetworkKind/autoencoder(latentDim:stride:)`` holds its latent size
    /// and stride, a ``NetworkKind/residual(downsampling:noiseMap:)``
    /// denoiser its pixel-unshuffle factor and noise-level map, and neither
    /// holds the other's fields. ``latentDim``, ``stride``, ``downsampling``,
    /// ``noiseMap`` and ``architecture`` read and write them as before; each
    /// says what it means on the other kind.
    ///
    /// The autoencoder's encoder is one `Conv2D(filters, kernelSize, stride 2,
    /// same, ReLU)` per entry of ``layerFilters``, a flatten and a linear
    /// `Dense(latentDim)`. The decoder mirrors it: a linear `Dense` back to
    /// the last feature map, a reshape, one `Conv2DTranspose(filters,
    /// kernelSize, stride 2, same, ReLU)` per entry in reverse order, and a
    /// stride-1 `Conv2DTranspose` with one filter per input channel and a
    /// sigmoid. The residual denoisers are presets: ``photo(channels:)``,
    /// ``ffdnet(channels:)`` and ``builtInPhoto(channels:)``.
    ///
    /// The default is the Keras tutorial's model:
    ///
    /// ```swift
    /// let tutorial = DenoisingAutoencoder.Configuration()
    /// // inputShape [28, 28, 1], layerFilters [32, 64], kernelSize 3, kind .autoencoder(latentDim: 16, stride: 2)
    /// let rgb = DenoisingAutoencoder.Configuration(inputShape: [32, 32, 3], layerFilters: [32, 64, 128],
    ///                                              kernelSize: 5, latentDim: 64)
    /// ```
    public struct Configuration: Sendable, Equatable, Hashable {
        /// `[height, width, channels]` of one image (for a residual model: of one training patch).
        public var inputShape: [Int]
        /// Filters of each encoder convolution, input side first (for a
        /// residual model: of each hidden convolution).
        public var layerFilters: [Int]
        /// Side of every (square) kernel; odd.
        public var kernelSize: Int
        /// Which network this is, with the fields only that network has (``NetworkKind``).
        public var kind: NetworkKind
        /// Adam's hyper-parameters (Keras's defaults).
        public var optimizer: Adam.Settings
        /// How a new residual model's convolution kernels are drawn: Glorot
        /// uniform (Keras's default, the tutorial's and the photo preset's) or
        /// He uniform (the ``ffdnet(channels:)`` preset: a dozen ReLU layers
        /// without normalisation barely train from Glorot's weights).
        public var kernelInitializer: KernelInitializer

        /// A configuration of the given kind.
        ///
        /// ```swift
        /// let denoiser = DenoisingAutoencoder.Configuration(
        ///     inputShape: [40, 40, 3], layerFilters: [48, 48, 48], kind: .residual(downsampling: 1, noiseMap: false))
        /// ```
        public init(inputShape: [Int], layerFilters: [Int], kernelSize: Int = 3, kind: NetworkKind,
                    optimizer: Adam.Settings = Adam.Settings(), kernelInitializer: KernelInitializer = .glorotUniform) {
            self.inputShape = inputShape
            self.layerFilters = layerFilters
            self.kernelSize = kernelSize
            self.kind = kind
            self.optimizer = optimizer
            self.kernelInitializer = kernelInitializer
        }

        /// A configuration; the defaults are the Keras tutorial's model.
        ///
        /// It builds the kind `architecture` names: an autoencoder keeps
        /// `latentDim` and `stride`; a residual model ignores them (and has
        /// neither pixel unshuffle nor a noise-level map; see the longer
        /// initializer, or ``init(inputShape:layerFilters:kernelSize:kind:optimizer:kernelInitializer:)``).
        public init(inputShape: [Int] = [28, 28, 1], layerFilters: [Int] = [32, 64], kernelSize: Int = 3,
                    latentDim: Int = 16, stride: Int = 2, optimizer: Adam.Settings = Adam.Settings(),
                    architecture: Architecture = .autoencoder) {
            self.init(inputShape: inputShape, layerFilters: layerFilters, kernelSize: kernelSize, latentDim: latentDim,
                      stride: stride, optimizer: optimizer, architecture: architecture, downsampling: 1, noiseMap: false)
        }

        /// A configuration with a residual model's pixel-unshuffle factor and noise-level map.
        ///
        /// It builds the kind `architecture` names and ignores the other
        /// kind's fields: an autoencoder keeps `latentDim` and `stride` and
        /// ignores `downsampling` and `noiseMap`; a residual model keeps
        /// those two and ignores `latentDim` and `stride` (so a residual
        /// model asked for with stride 2 has stride 1, and validates).
        public init(inputShape: [Int], layerFilters: [Int], kernelSize: Int, latentDim: Int, stride: Int,
                    optimizer: Adam.Settings = Adam.Settings(), architecture: Architecture, downsampling: Int, noiseMap: Bool) {
            self.init(inputShape: inputShape, layerFilters: layerFilters, kernelSize: kernelSize,
                      kind: NetworkKind(architecture, latentDim: latentDim, stride: stride, downsampling: downsampling, noiseMap: noiseMap),
                      optimizer: optimizer)
        }

        /// The photo preset: a residual denoiser of 7 convolutions 3×3 (6 of
        /// 48 filters with ReLU, one linear back to `channels`), trained on
        /// 40×40 patches; 105 k parameters for RGB, receptive field 15×15.
        /// See the "Denoising your own images" article for why this size.
        public static func photo(channels: Int = 3) -> Configuration {
            Configuration(inputShape: [40, 40, channels], layerFilters: Array(repeating: 48, count: 6), kernelSize: 3,
                          kind: .residual(downsampling: 1, noiseMap: false))
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
            Configuration(inputShape: [64, 64, channels], layerFilters: Array(repeating: 64, count: 11), kernelSize: 3,
                          kind: .residual(downsampling: 2, noiseMap: true), kernelInitializer: .heUniform)
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
            Configuration(inputShape: [48, 48, channels], layerFilters: Array(repeating: 48, count: 9), kernelSize: 3,
                          kind: .residual(downsampling: 1, noiseMap: true), kernelInitializer: .heUniform)
        }

        /// ``builtInPhoto(channels:)`` made deeper: 16 convolutions 3×3 of 48
        /// with ReLU and the linear one, DnCNN-17's depth at the built-in
        /// model's width. 314 835 parameters for RGB, about 1.9 times the
        /// cost per pixel, a receptive field of 35×35 (21×21 before). Its first
        /// weights come from the trained built-in model through
        /// ``DenoisingAutoencoder/deepened(toHiddenLayers:)`` rather than
        /// from random ones (`scripts/train-builtin-model --deep`).
        public static func builtInPhotoDeep(channels: Int = 3) -> Configuration {
            var configuration = builtInPhoto(channels: channels)
            configuration.layerFilters = Array(repeating: 48, count: 16)
            return configuration
        }

        /// ``builtInPhotoDeep(channels:)`` deeper again: 22 convolutions 3×3
        /// of 48 with ReLU and the linear one. 439 539 parameters for RGB,
        /// about 1.35 times its cost per pixel, a receptive field of 47×47
        /// (35×35 before), for the regular texture (brick, stripes) whose
        /// repetitions a smaller field does not see. Its first weights come
        /// from a trained ``builtInPhotoDeep(channels:)`` model through
        /// ``DenoisingAutoencoder/deepened(toHiddenLayers:)``
        /// (`scripts/train-builtin-model --deeper`).
        public static func builtInPhotoDeeper(channels: Int = 3) -> Configuration {
            var configuration = builtInPhoto(channels: channels)
            configuration.layerFilters = Array(repeating: 48, count: 22)
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
        public var target: Target {
            switch kind {
            case .autoencoder: .image
            case .residual: .noise
            }
        }
        /// How this model runs on images of any size (``TilingStrategy``).
        public var tilingStrategy: TilingStrategy {
            switch kind {
            case .autoencoder: .blendedTiles
            case .residual: .haloTiles
            }
        }
        /// Whether the model has a latent space, so that ``DenoisingAutoencoder/encode(_:)``
        /// and ``DenoisingAutoencoder/decode(_:)`` apply.
        public var hasLatentSpace: Bool { decoderStart != nil }

        /// The shape `[h, w, c]` of one example the network itself takes: the
        /// image, plus the noise-level channel when the model has a ``noiseMap``.
        public var networkInputShape: [Int] {
            guard inputShape.count == 3, case .residual(_, noiseMap: true) = kind else { return inputShape }
            return [inputShape[0], inputShape[1], inputShape[2] + 1]
        }

        /// Pixels a residual model's output depends on around each side of a
        /// pixel: `(kernelSize − 1) / 2` per convolution, times the
        /// ``downsampling`` factor (0 for an autoencoder, whose output depends
        /// on its whole input).
        public var receptiveRadius: Int {
            switch kind {
            case .autoencoder: 0
            case .residual: layerSpecs.receptiveRadius ?? 0
            }
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
            switch kind {
            case .residual(let downsampling, _):
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
            case .autoencoder(let latentDim, let stride):
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
            guard case .autoencoder = kind else { return nil }
            return layerSpecs.firstIndex { $0.name == "decoder.dense" }
        }

        /// Throws `DAEError/invalidConfiguration(_:)` naming the first problem:
        /// a shape that is not `[height, width, channels]`, zero channels, empty
        /// or non-positive filters, an even or non-positive kernel; for an
        /// autoencoder a latent size below 1, a stride below 1, or an input
        /// the strides cannot halve exactly (the decoder must give back the
        /// input's size); for a residual model a downsampling outside 1...8 or
        /// one that does not divide the training patch; or a model too large
        /// for ``ResourceLimits/memoryBudget`` (see ``checkResources(batch:)``).
        ///
        /// A residual model's stride and an autoencoder's downsampling and
        /// noise map cannot be stated (``kind``), so they are not checked
        /// here; decoding a configuration that states them is refused with
        /// the reason this method used to give (``init(from:)``).
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
            switch kind {
            case .residual(let downsampling, _):
                guard downsampling >= 1, downsampling <= 8 else {
                    throw DAEError.invalidConfiguration("downsampling must be in 1...8, got \(downsampling)")
                }
                guard height % downsampling == 0, width % downsampling == 0 else {
                    throw DAEError.invalidConfiguration("training patches of \(height)x\(width) are not multiples of the downsampling \(downsampling)")
                }
            case .autoencoder(let latentDim, let stride):
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
            }
            try optimizer.validate()
            try checkResources()  // sizes and memory, before anything is allocated (ResourceLimits.swift)
        }

        /// The shape `[h, w, c]` of the last encoder feature map (of the last
        /// hidden convolution for a residual model).
        public var bottleneckShape: [Int] {
            let stride = switch kind {
            case .autoencoder(_, let stride): stride
            case .residual: 1
            }
            let factor = layerFilters.reduce(1) { acc, _ in acc * stride }
            return [inputShape[0] / factor, inputShape[1] / factor, layerFilters.last ?? 0]
        }
    }
}
