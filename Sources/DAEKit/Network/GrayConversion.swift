import DAELayers

extension DenoisingAutoencoder {
    /// A gray model made from this colour residual model: on a gray image
    /// `x` it computes what this model computes on the colour image
    /// `(x, x, x)`, averaged over the three channels (up to the order of
    /// float sums), so it starts where the colour model is and can then be
    /// trained on gray patches, whose noise (one draw per pixel, not three)
    /// the colour model never saw. This is how the built-in gray model
    /// starts (`scripts/train-builtin-model --gray`).
    ///
    /// The weights:
    /// - the first convolution's kernel takes, for each pixel of a
    ///   space-to-depth block, the sum of its red, green and blue slices
    ///   (and the noise-level channel's slice as it is);
    /// - the output convolution's kernel and bias keep, for each pixel of a
    ///   block, the mean of its three output filters.
    ///
    /// The result is a fresh model: no optimizer state, history or
    /// application metadata; its training seed is unset.
    ///
    /// ```swift
    /// let colour = try DenoisingAutoencoder.pretrained(.photo)
    /// var gray = try colour.grayscale()        // inputShape [48, 48, 1]
    /// ```
    ///
    /// - Throws: `DAEError/invalidConfiguration(_:)` for a model that is not
    ///   a residual model of three channels.
    public func grayscale() throws -> DenoisingAutoencoder {
        guard case .residual(let block, let noiseMap) = configuration.kind, configuration.inputShape.count == 3,
              configuration.inputShape[2] == 3 else {
            throw DAEError.invalidConfiguration("only a residual model of 3 channels converts to gray; this one is "
                + "\(configuration.architecture.rawValue) with input \(configuration.inputShape)")
        }
        var gray = configuration
        gray.inputShape[2] = 1
        var model = try DenoisingAutoencoder(configuration: gray, seed: 0)
        model.workers = workers
        model.inferenceBatchSize = inferenceBatchSize
        let specs = configuration.layerSpecs
        guard let first = specs.first(where: { if case .conv2D = $0.kind { true } else { false } })?.name,
              let last = specs.last(where: { if case .conv2D = $0.kind { true } else { false } })?.name else {
            throw DAEError.invalidConfiguration("the model has no convolution to convert")
        }
        guard first != last else {
            throw DAEError.invalidConfiguration("a model of one convolution has no hidden layer to keep: convert a deeper one")
        }
        let weights = network.parameters
        let positions = block * block
        // First convolution: kernel [k, k, positions · (3 + map), F] → [k, k, positions · (1 + map), F].
        let inKernel = weights["\(first).kernel"]!
        let (k0, k1, colourIn, filters) = (inKernel.shape[0], inKernel.shape[1], inKernel.shape[2], inKernel.shape[3])
        let colourPixel = 3 + (noiseMap ? 1 : 0), grayPixel = 1 + (noiseMap ? 1 : 0)
        precondition(colourIn == positions * colourPixel, "the first convolution reads \(colourIn) channels")
        var grayIn = [Float](repeating: 0, count: k0 * k1 * positions * grayPixel * filters)
        for tap in 0..<(k0 * k1) {
            for p in 0..<positions {
                for f in 0..<filters {
                    let from = { (channel: Int) in inKernel.scalars[(tap * colourIn + p * colourPixel + channel) * filters + f] }
                    let to = (tap * positions * grayPixel + p * grayPixel) * filters + f
                    grayIn[to] = from(0) + from(1) + from(2)
                    if noiseMap { grayIn[to + filters] = from(3) }
                }
            }
        }
        try model.network.setParameter("\(first).kernel", to: Tensor(shape: [k0, k1, positions * grayPixel, filters], scalars: grayIn))
        try model.network.setParameter("\(first).bias", to: weights["\(first).bias"]!)
        // Output convolution: kernel [k, k, F, positions · 3] → [k, k, F, positions], the mean of each pixel's three filters.
        let outKernel = weights["\(last).kernel"]!, outBias = weights["\(last).bias"]!
        let (o0, o1, hidden) = (outKernel.shape[0], outKernel.shape[1], outKernel.shape[2])
        /// The mean of the three filters of `p`'s pixel in row `row` of `values`.
        func mean(_ values: [Float], row: Int, _ p: Int) -> Float {
            let from = (row * positions + p) * 3
            let sum: Float = values[from] + values[from + 1] + values[from + 2]
            return sum / 3
        }
        var grayOut = [Float](repeating: 0, count: o0 * o1 * hidden * positions)
        for row in 0..<(o0 * o1 * hidden) {
            for p in 0..<positions { grayOut[row * positions + p] = mean(outKernel.scalars, row: row, p) }
        }
        let grayBias = (0..<positions).map { p in mean(outBias.scalars, row: 0, p) }
        try model.network.setParameter("\(last).kernel", to: Tensor(shape: [o0, o1, hidden, positions], scalars: grayOut))
        try model.network.setParameter("\(last).bias", to: Tensor(shape: [positions], scalars: grayBias))
        // Every layer between keeps its weights.
        for (name, tensor) in weights where !name.hasPrefix("\(first).") && !name.hasPrefix("\(last).") {
            try model.network.setParameter(name, to: tensor)
        }
        return model
    }
}
