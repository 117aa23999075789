import DAELayers

extension DenoisingAutoencoder {
    /// A deeper copy of this residual model that computes the same function:
    /// identity convolutions are inserted between its hidden layers until it
    /// has `hiddenLayers` of them (Net2Net's "deeper" operation, Chen,
    /// Goodfellow and Shlens, 2016). Training it further then starts where
    /// this model is, with a larger receptive field (2 pixels more per
    /// inserted 3×3 layer) and more capacity to learn, instead of from
    /// random weights. This is how a deeper built-in model continues from the
    /// trained one (`dae train --initial-weights` with a deeper `--preset`,
    /// `scripts/train-builtin-model --deep`).
    ///
    /// An inserted layer has as many filters as the layer before it, a
    /// kernel that is zero except for the identity matrix at its centre tap,
    /// and a zero bias. It follows a ReLU layer, whose outputs are never
    /// negative, so its own ReLU passes them on unchanged: the output is the
    /// same up to the order of float sums (exactly the same with im2col and
    /// GEMM, whose extra terms are exact zeros).
    ///
    /// The insertions are spread evenly: after old hidden layer `i` (of `m`)
    /// come `⌊(i + 1)·e / m⌋ − ⌊i·e / m⌋` of the `e` new layers, so none
    /// comes before the first layer, which reads the image itself.
    /// Parameters are renamed to their new positions (`denoiser.conv{j}`).
    ///
    /// The result is a fresh model: no optimizer state, history or
    /// application metadata; its training seed is unset.
    ///
    /// ```swift
    /// let trained = try DenoisingAutoencoder.pretrained(.photo)   // 9 hidden layers
    /// var deeper = try trained.deepened(toHiddenLayers: 16)        // the same outputs, receptive field 35×35
    /// ```
    ///
    /// - Throws: `DAEError/invalidConfiguration(_:)` for a model that is not
    ///   residual, has no hidden layer, or already has more than
    ///   `hiddenLayers`.
    public func deepened(toHiddenLayers hiddenLayers: Int) throws -> DenoisingAutoencoder {
        guard case .residual = configuration.kind else {
            throw DAEError.invalidConfiguration("only a residual model deepens; this one is \(configuration.architecture.rawValue)")
        }
        let old = configuration.layerFilters
        guard !old.isEmpty else {
            throw DAEError.invalidConfiguration("a model with no hidden layer has no ReLU output to insert an identity layer after")
        }
        guard hiddenLayers >= old.count else {
            throw DAEError.invalidConfiguration("the model has \(old.count) hidden layers, more than the \(hiddenLayers) asked for")
        }
        // For each new hidden layer, the old layer whose weights it takes, or nil for an identity layer.
        let added = hiddenLayers - old.count
        var sources: [Int?] = []
        for i in old.indices {
            sources.append(i)
            let inserted = (i + 1) * added / old.count - i * added / old.count
            sources += Array(repeating: nil, count: inserted)
        }
        var deeper = configuration
        deeper.layerFilters = []
        for (j, source) in sources.enumerated() {
            // An identity layer keeps the width of the layer before it.
            deeper.layerFilters.append(source.map { old[$0] } ?? deeper.layerFilters[j - 1])
        }
        var model = try DenoisingAutoencoder(configuration: deeper, seed: 0)
        model.workers = workers
        model.inferenceBatchSize = inferenceBatchSize
        let weights = network.parameters
        let k = configuration.kernelSize
        for (j, source) in sources.enumerated() {
            let name = "denoiser.conv\(j)"
            if let source {
                try model.network.setParameter("\(name).kernel", to: weights["denoiser.conv\(source).kernel"]!)
                try model.network.setParameter("\(name).bias", to: weights["denoiser.conv\(source).bias"]!)
            } else {
                let filters = deeper.layerFilters[j]
                // Kernel [k, k, filters, filters]: the identity at the centre tap (k/2, k/2).
                var kernel = Tensor(zeros: [k, k, filters, filters])
                let centre = ((k / 2) * k + k / 2) * filters * filters
                for f in 0..<filters { kernel.scalars[centre + f * filters + f] = 1 }
                try model.network.setParameter("\(name).kernel", to: kernel)
                try model.network.setParameter("\(name).bias", to: Tensor(zeros: [filters]))
            }
        }
        // Everything outside the hidden stack (the output convolution) keeps its name and weights.
        for (name, tensor) in weights where !name.hasPrefix("denoiser.conv") {
            try model.network.setParameter(name, to: tensor)
        }
        return model
    }
}
