import DAEFiles
import DAELayers
import Foundation

/// The configuration's two JSON forms, which checkpoints store: its own
/// (`configuration`) and the Keras-side `architecture` entry. Both keep the
/// flat format of the configurations written before ``DenoisingAutoencoder/Configuration/kind``
/// existed, byte for byte: a residual model writes `latentDim` 0 and `stride` 1.
extension DenoisingAutoencoder.Configuration: Codable {
    private enum CodingKeys: String, CodingKey {
        case inputShape, layerFilters, kernelSize, latentDim, stride, optimizer, architecture, downsampling, noiseMap
        case kernelInitializer
    }

    /// Decodes a configuration; `architecture`, `downsampling` and
    /// `noiseMap` may be absent (checkpoints written before they existed
    /// are autoencoders, or residual models without either).
    ///
    /// `latentDim` and `stride` must be present for either kind; a residual
    /// model's `latentDim` is ignored. Throws `DAEError/invalidConfiguration(_:)`
    /// for fields the kind cannot have, which ``validate()`` refused when a
    /// configuration stored every field: a residual model with a `stride`
    /// other than 1, an autoencoder with a `downsampling` other than 1 or a
    /// noise map.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let inputShape = try c.decode([Int].self, forKey: .inputShape)
        let layerFilters = try c.decode([Int].self, forKey: .layerFilters)
        let kernelSize = try c.decode(Int.self, forKey: .kernelSize)
        let latentDim = try c.decode(Int.self, forKey: .latentDim)
        let stride = try c.decode(Int.self, forKey: .stride)
        let optimizer = try c.decode(Adam.Settings.self, forKey: .optimizer)
        let architecture = try c.decodeIfPresent(Architecture.self, forKey: .architecture) ?? .autoencoder
        let downsampling = try c.decodeIfPresent(Int.self, forKey: .downsampling) ?? 1
        let noiseMap = try c.decodeIfPresent(Bool.self, forKey: .noiseMap) ?? false
        let kernelInitializer = try c.decodeIfPresent(KernelInitializer.self, forKey: .kernelInitializer) ?? .glorotUniform
        let kind = try NetworkKind(checking: architecture, latentDim: latentDim, stride: stride,
                                   downsampling: downsampling, noiseMap: noiseMap)
        self.init(inputShape: inputShape, layerFilters: layerFilters, kernelSize: kernelSize, kind: kind,
                  optimizer: optimizer, kernelInitializer: kernelInitializer)
    }

    /// Encodes a configuration in the flat format: `latentDim` and `stride`
    /// always (0 and 1 for a residual model), `architecture`, and
    /// `downsampling`, `noiseMap` and `kernelInitializer` only when they
    /// differ from the defaults, so that earlier readers and the checkpoints
    /// of earlier models stay byte for byte the same.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inputShape, forKey: .inputShape)
        try c.encode(layerFilters, forKey: .layerFilters)
        try c.encode(kernelSize, forKey: .kernelSize)
        try c.encode(optimizer, forKey: .optimizer)
        try c.encode(architecture, forKey: .architecture)
        switch kind {
        case .autoencoder(let latentDim, let stride):
            try c.encode(latentDim, forKey: .latentDim)
            try c.encode(stride, forKey: .stride)
        case .residual(let downsampling, let noiseMap):
            try c.encode(0, forKey: .latentDim)
            try c.encode(1, forKey: .stride)
            if downsampling != 1 { try c.encode(downsampling, forKey: .downsampling) }
            if noiseMap { try c.encode(noiseMap, forKey: .noiseMap) }
        }
        if kernelInitializer != .glorotUniform { try c.encode(kernelInitializer, forKey: .kernelInitializer) }
    }

    /// The `architecture` metadata entry, as the Keras reference vectors
    /// and Keras-side tools write it: `input_shape`, `layer_filters`,
    /// `kernel_size`, `strides` (default 2, or 1 for a residual model),
    /// `latent_dim` (0 for a residual model, and not needed when reading one),
    /// and `kind` (absent for the autoencoder, `"residual"`). Other keys
    /// (such as `batch`) are ignored.
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
        var entry = ArchitectureEntry(inputShape: inputShape, layerFilters: layerFilters, kernelSize: kernelSize)
        switch kind {
        case .autoencoder(let latentDim, let stride):
            (entry.strides, entry.latentDim) = (stride, latentDim)
        case .residual(let downsampling, let noiseMap):
            (entry.strides, entry.latentDim, entry.kind) = (1, 0, Architecture.residual.rawValue)
            entry.downsampling = downsampling == 1 ? nil : downsampling
            entry.noiseMap = noiseMap ? true : nil
        }
        return (try? JSONCoding.string(entry)) ?? "{}"
    }

    /// Reads an `architecture` JSON object (see ``ArchitectureEntry``). Sizes
    /// must be JSON integers: `true` or `2.9` are refused. Like
    /// ``init(from:)``, throws `DAEError/invalidConfiguration(_:)` for
    /// fields the kind cannot have (`strides` other than 1 for a residual
    /// model, `downsampling` or `noise_map` for an autoencoder).
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
        let latentDim: Int, defaultStride: Int
        switch architecture {
        case .autoencoder:
            guard let value = entry.latentDim else {
                throw DAEError.corruptFile(path: path, reason: "metadata 'architecture' lacks the integer 'latent_dim'")
            }
            (latentDim, defaultStride) = (value, 2)
        case .residual:
            (latentDim, defaultStride) = (0, 1)
        }
        let kind = try NetworkKind(checking: architecture, latentDim: latentDim, stride: entry.strides ?? defaultStride,
                                   downsampling: entry.downsampling ?? 1, noiseMap: entry.noiseMap ?? false)
        self.init(inputShape: entry.inputShape, layerFilters: entry.layerFilters, kernelSize: entry.kernelSize, kind: kind)
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
