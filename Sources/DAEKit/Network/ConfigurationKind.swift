import DAELayers

extension DenoisingAutoencoder.Configuration {
    /// Which network a configuration describes, with the fields only that
    /// network has: an autoencoder has no pixel unshuffle or noise-level
    /// map, a residual model no latent vector or stride.
    ///
    /// ```swift
    /// switch configuration.kind {
    /// case .autoencoder(let latentDim, let stride): print("latent \(latentDim), stride \(stride)")
    /// case .residual(let downsampling, let noiseMap): print("unshuffle \(downsampling), noise map \(noiseMap)")
    /// }
    /// ```
    public enum NetworkKind: Sendable, Hashable {
        /// The tutorial's autoencoder: one `Conv2D(filters, kernelSize,
        /// stride, same, ReLU)` per entry of ``DenoisingAutoencoder/Configuration/layerFilters``,
        /// a flatten and a linear `Dense(latentDim)`; the decoder mirrors it
        /// with transposed convolutions and ends in a sigmoid. Runs on images
        /// of exactly ``DenoisingAutoencoder/Configuration/inputShape``
        /// (larger images are tiled).
        ///
        /// - Parameters:
        ///   - latentDim: the size of the latent vector.
        ///   - stride: the stride of the encoder's convolutions and of the
        ///     decoder's matching transposed convolutions.
        case autoencoder(latentDim: Int, stride: Int)
        /// A fully convolutional residual denoiser (DnCNN-style): one
        /// `Conv2D(filters, kernelSize, stride 1, same, ReLU)` per entry of
        /// ``DenoisingAutoencoder/Configuration/layerFilters`` (`denoiser.conv{i}`),
        /// then a linear `Conv2D(channels)` (`denoiser.output`) that predicts
        /// the noise; the output is `clip(input − prediction, 0, 1)`. It trains
        /// on patches of ``DenoisingAutoencoder/Configuration/inputShape`` and
        /// runs on images of any size.
        ///
        /// - Parameters:
        ///   - downsampling: the pixel-unshuffle factor: 2 runs the
        ///     convolutions on `2 × 2` blocks folded into channels
        ///     (`denoiser.downsample`, `SpaceToDepth`), a quarter of the
        ///     pixels, and unfolds the output (`denoiser.upsample`,
        ///     `DepthToSpace`); 1 has neither.
        ///   - noiseMap: whether the model takes a noise-level map: one extra
        ///     input channel holding the noise std σ (in [0, 1] units) at every
        ///     pixel, so that its strength can be set (FFDNet's design).
        case residual(downsampling: Int, noiseMap: Bool)
    }

    /// The two network shapes a configuration can describe, without their
    /// fields: the case names of ``NetworkKind``.
    public enum Architecture: String, Sendable, Codable, CaseIterable {
        /// The tutorial's autoencoder (``NetworkKind/autoencoder(latentDim:stride:)``).
        case autoencoder
        /// A fully convolutional residual denoiser (``NetworkKind/residual(downsampling:noiseMap:)``).
        case residual
    }

    /// The network's shape: the tutorial's autoencoder or a residual denoiser
    /// (``kind`` without its fields).
    ///
    /// Setting another architecture replaces ``kind`` by the new kind with
    /// the values its fields read before: an autoencoder becomes a residual
    /// model with ``downsampling`` 1 and no ``noiseMap``, a residual model an
    /// autoencoder with ``latentDim`` 0 (which ``validate()`` refuses until
    /// it is set) and ``stride`` 1. Set the architecture first, then the new
    /// kind's fields: setting them before has no effect. Setting the same
    /// architecture changes nothing.
    public var architecture: Architecture {
        get {
            switch kind {
            case .autoencoder: .autoencoder
            case .residual: .residual
            }
        }
        set {
            guard newValue != architecture else { return }
            kind = NetworkKind(newValue, latentDim: latentDim, stride: stride, downsampling: downsampling, noiseMap: noiseMap)
        }
    }

    /// The size of an autoencoder's latent vector; 0 for a residual model,
    /// which has none. Setting it on a residual model has no effect.
    public var latentDim: Int {
        get {
            switch kind {
            case .autoencoder(let latentDim, _): latentDim
            case .residual: 0
            }
        }
        set {
            guard case .autoencoder(_, let stride) = kind else { return }
            kind = .autoencoder(latentDim: newValue, stride: stride)
        }
    }

    /// The stride of an autoencoder's encoder convolutions and the decoder's
    /// matching transposed convolutions; 1 for a residual model, whose
    /// convolutions all have stride 1. Setting it on a residual model has no
    /// effect.
    public var stride: Int {
        get {
            switch kind {
            case .autoencoder(_, let stride): stride
            case .residual: 1
            }
        }
        set {
            guard case .autoencoder(let latentDim, _) = kind else { return }
            kind = .autoencoder(latentDim: latentDim, stride: newValue)
        }
    }

    /// A residual model's pixel-unshuffle factor (see
    /// ``NetworkKind/residual(downsampling:noiseMap:)``); 1 for an
    /// autoencoder, which has none. Setting it on an autoencoder has no effect.
    public var downsampling: Int {
        get {
            switch kind {
            case .autoencoder: 1
            case .residual(let downsampling, _): downsampling
            }
        }
        set {
            guard case .residual(_, let noiseMap) = kind else { return }
            kind = .residual(downsampling: newValue, noiseMap: noiseMap)
        }
    }

    /// Whether a residual model takes a noise-level map (see
    /// ``NetworkKind/residual(downsampling:noiseMap:)``): training fills it
    /// with each patch's σ, ``DenoisingAutoencoder/denoise(_:noiseLevel:)``
    /// with the given or estimated level. False for an autoencoder; setting
    /// it on an autoencoder has no effect.
    public var noiseMap: Bool {
        get {
            switch kind {
            case .autoencoder: false
            case .residual(_, let noiseMap): noiseMap
            }
        }
        set {
            guard case .residual(let downsampling, _) = kind else { return }
            kind = .residual(downsampling: downsampling, noiseMap: newValue)
        }
    }
}

extension DenoisingAutoencoder.Configuration.NetworkKind {
    /// The kind `architecture` names, from fields that state both kinds':
    /// the other kind's fields are ignored.
    init(_ architecture: DenoisingAutoencoder.Configuration.Architecture, latentDim: Int, stride: Int,
         downsampling: Int, noiseMap: Bool) {
        switch architecture {
        case .autoencoder: self = .autoencoder(latentDim: latentDim, stride: stride)
        case .residual: self = .residual(downsampling: downsampling, noiseMap: noiseMap)
        }
    }

    /// The kind `architecture` names, from stored fields (a checkpoint's)
    /// that state both kinds': throws `DAEError/invalidConfiguration(_:)`,
    /// with the reason ``DenoisingAutoencoder/Configuration/validate()`` gave
    /// when a configuration held every field, for a residual model with a
    /// stride other than 1, or an autoencoder with a downsampling other than
    /// 1 or a noise map. A residual model's latent size is ignored, as it
    /// always was (earlier writers could store any).
    init(checking architecture: DenoisingAutoencoder.Configuration.Architecture, latentDim: Int, stride: Int,
         downsampling: Int, noiseMap: Bool) throws {
        switch architecture {
        case .residual:
            guard stride == 1 else {
                throw DAEError.invalidConfiguration("a residual model's convolutions have stride 1, got stride \(stride)")
            }
        case .autoencoder:
            guard downsampling == 1, !noiseMap else {
                throw DAEError.invalidConfiguration("downsampling and a noise map are for residual models; an autoencoder has neither")
            }
        }
        self.init(architecture, latentDim: latentDim, stride: stride, downsampling: downsampling, noiseMap: noiseMap)
    }
}
