import DAELayers

/// The two halves of an autoencoder around its latent vector: the encoder
/// (image → latent) and the decoder (latent → image).
///
/// Only a model that has a latent space gives one
/// (``DenoisingAutoencoder/latentSpace`` is nil for a fully convolutional
/// denoiser), so encoding with a model that cannot is a compile-time
/// `nil` check, not a run-time error:
///
/// ```swift
/// let model = try DenoisingAutoencoder(configuration: .init(), seed: 42)
/// if let latent = model.latentSpace {
///     let z = try latent.encode(noisy)          // [n, 16]
///     let images = try latent.decode(z)         // [n, 28, 28, 1]
/// }
/// ```
///
/// A value holding a copy of the model (copy-on-write, so cheap); like the
/// model, it can be used from any number of tasks at once.
public struct LatentSpace: Sendable {
    /// The model whose halves these are.
    let model: DenoisingAutoencoder
    /// Index of the first decoder layer in the model's network.
    let decoderStart: Int

    /// The size of a latent vector (``DenoisingAutoencoder/Configuration/latentDim``).
    public var dimension: Int { model.configuration.latentDim }

    /// The latent vectors `[n, dimension]` of `batch` (`[n] + inputShape`, values in [0, 1]).
    ///
    /// - Throws: `DAEError` for a batch of another shape or with non-finite
    ///   values, and for a non-finite result (see ``DenoisingAutoencoder/denoise(_:)``).
    public func encode(_ batch: Tensor) throws -> Tensor {
        try ImageValidation.check(batch, imageShape: model.configuration.inputShape, what: "encode input")
        return try model.run(batch, layers: 0..<decoderStart)
    }

    /// The images `[n] + inputShape` decoded from latent vectors `[n, dimension]`.
    ///
    /// - Throws: `DAEError` for vectors of another size or with non-finite
    ///   values, and for a non-finite result.
    public func decode(_ latent: Tensor) throws -> Tensor {
        guard latent.rank == 2, latent.shape[1] == dimension, latent.shape[0] > 0 else {
            throw DAEError.shapeMismatch("decode input (latent vectors)", expected: [latent.shape.first ?? 1, dimension],
                                         actual: latent.shape)
        }
        if let index = latent.scalars.firstIndex(where: { !$0.isFinite }) {
            throw DAEError.invalidValue("decode input", reason: "latent vector \(index / dimension) holds a non-finite value")
        }
        return try model.run(latent, layers: decoderStart..<model.network.bareLayers.count)
    }
}

extension DenoisingAutoencoder {
    /// The encoder and decoder of a model with a latent space (the
    /// tutorial's autoencoder), or nil for a model without one (a fully
    /// convolutional denoiser such as ``Configuration/photo(channels:)``).
    public var latentSpace: LatentSpace? {
        configuration.hasLatentSpace ? LatentSpace(model: self, decoderStart: decoderStart) : nil
    }

    /// The latent vectors `[n, latentDim]` of `batch` (`[n] + inputShape`, values in [0, 1]).
    ///
    /// Deprecated: use `latentSpace?.encode(_:)`, which exists only for a
    /// model that has a latent space. This forwarder throws
    /// `DAEError/invalidArgument(_:)` for a model without one.
    @available(*, deprecated, message: "use latentSpace?.encode(_:): only a model with a latent space has one")
    public func encode(_ batch: Tensor) throws -> Tensor {
        try requireLatentSpace("encode").encode(batch)
    }

    /// The images `[n] + inputShape` decoded from latent vectors `[n, latentDim]`.
    ///
    /// Deprecated: use `latentSpace?.decode(_:)`. This forwarder throws
    /// `DAEError/invalidArgument(_:)` for a model without a latent space.
    @available(*, deprecated, message: "use latentSpace?.decode(_:): only a model with a latent space has one")
    public func decode(_ latent: Tensor) throws -> Tensor {
        try requireLatentSpace("decode").decode(latent)
    }

    private func requireLatentSpace(_ what: String) throws -> LatentSpace {
        guard let latentSpace else {
            throw DAEError.invalidArgument("\(what): a residual model has no latent vector (only autoencoders do)")
        }
        return latentSpace
    }
}
