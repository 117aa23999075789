import DAEFiles
@testable import DAEKit
import DAETestSupport
import Foundation
import Testing

/// A configuration stores its network's kind with that kind's fields only
/// (issue 17); its JSON, its `architecture` entry and the compatibility
/// properties read as before.
@Suite("Configuration kinds")
struct ConfigurationKindTests {
    typealias Configuration = DenoisingAutoencoder.Configuration

    /// A configuration, its `configuration` JSON and its `architecture` entry,
    /// the JSON as the flat configuration wrote it before the kinds (main at
    /// 4c36fbe), byte for byte.
    struct Golden: Sendable, CustomTestStringConvertible {
        let name: String
        let configuration: Configuration
        let json: String
        let architecture: String
        var testDescription: String { name }
    }

    static let goldens: [Golden] = [
        Golden(name: "tutorial", configuration: Configuration(),
               json: #"{"architecture":"autoencoder","inputShape":[28,28,1],"kernelSize":3,"latentDim":16,"layerFilters":[32,64],"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":2}"#,
               architecture: #"{"input_shape":[28,28,1],"kernel_size":3,"latent_dim":16,"layer_filters":[32,64],"strides":2}"#),
        Golden(name: "photo", configuration: .photo(),
               json: #"{"architecture":"residual","inputShape":[40,40,3],"kernelSize":3,"latentDim":0,"layerFilters":[48,48,48,48,48,48],"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#,
               architecture: #"{"input_shape":[40,40,3],"kernel_size":3,"kind":"residual","latent_dim":0,"layer_filters":[48,48,48,48,48,48],"strides":1}"#),
        Golden(name: "photo, gray", configuration: .photo(channels: 1),
               json: #"{"architecture":"residual","inputShape":[40,40,1],"kernelSize":3,"latentDim":0,"layerFilters":[48,48,48,48,48,48],"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#,
               architecture: #"{"input_shape":[40,40,1],"kernel_size":3,"kind":"residual","latent_dim":0,"layer_filters":[48,48,48,48,48,48],"strides":1}"#),
        Golden(name: "ffdnet", configuration: .ffdnet(),
               json: #"{"architecture":"residual","downsampling":2,"inputShape":[64,64,3],"kernelInitializer":"he_uniform","kernelSize":3,"latentDim":0,"layerFilters":[64,64,64,64,64,64,64,64,64,64,64],"noiseMap":true,"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#,
               architecture: #"{"downsampling":2,"input_shape":[64,64,3],"kernel_size":3,"kind":"residual","latent_dim":0,"layer_filters":[64,64,64,64,64,64,64,64,64,64,64],"noise_map":true,"strides":1}"#),
        Golden(name: "ffdnet, gray", configuration: .ffdnet(channels: 1),
               json: #"{"architecture":"residual","downsampling":2,"inputShape":[64,64,1],"kernelInitializer":"he_uniform","kernelSize":3,"latentDim":0,"layerFilters":[64,64,64,64,64,64,64,64,64,64,64],"noiseMap":true,"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#,
               architecture: #"{"downsampling":2,"input_shape":[64,64,1],"kernel_size":3,"kind":"residual","latent_dim":0,"layer_filters":[64,64,64,64,64,64,64,64,64,64,64],"noise_map":true,"strides":1}"#),
        Golden(name: "builtInPhoto", configuration: .builtInPhoto(),
               json: #"{"architecture":"residual","inputShape":[48,48,3],"kernelInitializer":"he_uniform","kernelSize":3,"latentDim":0,"layerFilters":[48,48,48,48,48,48,48,48,48],"noiseMap":true,"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#,
               architecture: #"{"input_shape":[48,48,3],"kernel_size":3,"kind":"residual","latent_dim":0,"layer_filters":[48,48,48,48,48,48,48,48,48],"noise_map":true,"strides":1}"#),
        Golden(name: "builtInPhoto, gray", configuration: .builtInPhoto(channels: 1),
               json: #"{"architecture":"residual","inputShape":[48,48,1],"kernelInitializer":"he_uniform","kernelSize":3,"latentDim":0,"layerFilters":[48,48,48,48,48,48,48,48,48],"noiseMap":true,"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#,
               architecture: #"{"input_shape":[48,48,1],"kernel_size":3,"kind":"residual","latent_dim":0,"layer_filters":[48,48,48,48,48,48,48,48,48],"noise_map":true,"strides":1}"#),
        Golden(name: "RGB autoencoder", configuration: Configuration(inputShape: [32, 32, 3], layerFilters: [32, 64, 128], kernelSize: 5, latentDim: 64),
               json: #"{"architecture":"autoencoder","inputShape":[32,32,3],"kernelSize":5,"latentDim":64,"layerFilters":[32,64,128],"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":2}"#,
               architecture: #"{"input_shape":[32,32,3],"kernel_size":5,"latent_dim":64,"layer_filters":[32,64,128],"strides":2}"#),
        Golden(name: "stride 3, another optimizer",
               configuration: Configuration(inputShape: [18, 18, 1], layerFilters: [6, 10], kernelSize: 3, latentDim: 2, stride: 3,
                                            optimizer: .init(learningRate: 0.0005, beta1: 0.8)),
               json: #"{"architecture":"autoencoder","inputShape":[18,18,1],"kernelSize":3,"latentDim":2,"layerFilters":[6,10],"optimizer":{"beta1":0.8,"beta2":0.999,"epsilon":1e-07,"learningRate":0.0005},"stride":3}"#,
               architecture: #"{"input_shape":[18,18,1],"kernel_size":3,"latent_dim":2,"layer_filters":[6,10],"strides":3}"#),
        Golden(name: "He-uniform autoencoder", configuration: {
                   var configuration = Configuration(inputShape: [16, 16, 1], layerFilters: [4, 8], latentDim: 6)
                   configuration.kernelInitializer = .heUniform
                   return configuration
               }(),
               json: #"{"architecture":"autoencoder","inputShape":[16,16,1],"kernelInitializer":"he_uniform","kernelSize":3,"latentDim":6,"layerFilters":[4,8],"optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":2}"#,
               architecture: #"{"input_shape":[16,16,1],"kernel_size":3,"latent_dim":6,"layer_filters":[4,8],"strides":2}"#),
    ]

    @Test("the JSON and the architecture entry are the flat configuration's, byte for byte, and read back", arguments: goldens)
    func goldenJSON(_ golden: Golden) throws {
        #expect(try JSONCoding.string(golden.configuration) == golden.json)
        #expect(golden.configuration.architectureJSON == golden.architecture)
        #expect(try JSONCoding.decode(Configuration.self, from: golden.json) == golden.configuration)
        #expect(try Configuration(architectureJSON: golden.architecture, path: "golden") == {
            var configuration = golden.configuration  // the entry holds neither the optimizer nor the initializer
            configuration.optimizer = Adam.Settings()
            configuration.kernelInitializer = .glorotUniform
            return configuration
        }())
    }

    @Test("the shipped checkpoints' metadata reads back and writes the same bytes")
    func shippedCheckpoints() throws {
        /// The preset trained on patches of `side` (a model's input shape is its training patch).
        func preset(_ configuration: Configuration, patches side: Int) -> Configuration {
            var configuration = configuration
            configuration.inputShape = [side, side, configuration.inputShape[2]]
            return configuration
        }
        let files: [(path: String, preset: Configuration)] = [
            ("Sources/DAEKit/Models/builtin-photo-rgb.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-rgb.safetensors", .builtInPhoto()),
            ("Models/checkpoints/builtin-photo-deep.safetensors", .builtInPhotoDeep()),
            ("Models/checkpoints/builtin-photo-deep-large.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-2.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-3.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-4.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-5.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-6.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-7.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-8.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-9.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-10.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-11.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-mixed-12.safetensors", preset(.builtInPhotoDeep(), patches: 96)),
            ("Sources/DAEKit/Models/builtin-photo-gray.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large-2.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large-3.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large-4.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large-5.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large-6.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deep-gray-large-7.safetensors", preset(.builtInPhotoDeep(channels: 1), patches: 96)),
            ("Models/checkpoints/builtin-photo-deeper.safetensors", preset(.builtInPhotoDeeper(), patches: 96)),
        ]
        for (path, preset) in files {
            let file = try SafetensorsFile(contentsOf: ReferenceVectors.packageRoot.appendingPathComponent(path))
            let json = try #require(file.metadata["configuration"]), architecture = try #require(file.metadata["architecture"])
            let configuration = try JSONCoding.decode(Configuration.self, from: json)
            var expected = preset
            expected.optimizer = configuration.optimizer  // a fine-tuning run's Adam rate is its own
            #expect(configuration == expected, "\(path)")
            #expect(try JSONCoding.string(configuration) == json, "\(path)")
            #expect(configuration.architectureJSON == architecture, "\(path)")
        }
    }

    @Test("each kind holds its own fields; the compatibility properties read the other kind's as 0, 1, 1 and false")
    func kinds() {
        let tutorial = Configuration()
        #expect(tutorial.kind == .autoencoder(latentDim: 16, stride: 2))
        #expect(tutorial.architecture == .autoencoder && tutorial.downsampling == 1 && !tutorial.noiseMap)
        let ffdnet = Configuration.ffdnet()
        #expect(ffdnet.kind == .residual(downsampling: 2, noiseMap: true))
        #expect(ffdnet.architecture == .residual && ffdnet.latentDim == 0 && ffdnet.stride == 1)
        #expect(!ffdnet.hasLatentSpace && tutorial.hasLatentSpace)
        #expect(ffdnet.target == .noise && ffdnet.tilingStrategy == .haloTiles)
        #expect(tutorial.target == .image && tutorial.tilingStrategy == .blendedTiles)
        // Equal iff the same kind with the same fields; hashes follow.
        #expect(Configuration(inputShape: [8, 8, 1], layerFilters: [2], kind: .residual(downsampling: 1, noiseMap: false))
            != Configuration(inputShape: [8, 8, 1], layerFilters: [2], kind: .residual(downsampling: 1, noiseMap: true)))
        #expect(Set([Configuration.photo(), .photo(), .builtInPhoto(), .init()]).count == 3)
    }

    @Test("the initializers build the kind `architecture` names and ignore the other kind's fields")
    func initializers() throws {
        let residual = Configuration(inputShape: [8, 8, 1], layerFilters: [2], kernelSize: 3, latentDim: 16, stride: 2,
                                     architecture: .residual, downsampling: 2, noiseMap: true)
        #expect(residual.kind == .residual(downsampling: 2, noiseMap: true) && residual.latentDim == 0 && residual.stride == 1)
        try residual.validate()  // a residual model asked for with stride 2 has stride 1 (validate() refused the flat one)
        #expect(Configuration(architecture: .residual).kind == .residual(downsampling: 1, noiseMap: false))
        let autoencoder = Configuration(inputShape: [8, 8, 1], layerFilters: [2], kernelSize: 3, latentDim: 4, stride: 2,
                                        architecture: .autoencoder, downsampling: 2, noiseMap: true)
        #expect(autoencoder == Configuration(inputShape: [8, 8, 1], layerFilters: [2], latentDim: 4))
    }

    @Test("a setter writes the current kind's field and does nothing on the other kind; `architecture` switches kinds")
    func setters() throws {
        var photo = Configuration.photo()
        photo.stride = 2
        photo.latentDim = 16
        #expect(photo == .photo())
        photo.noiseMap = true
        photo.downsampling = 2
        #expect(photo.kind == .residual(downsampling: 2, noiseMap: true))

        var tutorial = Configuration()
        tutorial.noiseMap = true
        tutorial.downsampling = 2
        #expect(tutorial == Configuration())
        tutorial.latentDim = 8
        tutorial.stride = 1
        #expect(tutorial.kind == .autoencoder(latentDim: 8, stride: 1))

        // Switching keeps what the compatibility properties read: the new kind's neutral values.
        tutorial.architecture = .autoencoder
        #expect(tutorial.kind == .autoencoder(latentDim: 8, stride: 1))
        tutorial.architecture = .residual
        #expect(tutorial.kind == .residual(downsampling: 1, noiseMap: false))
        var ffdnet = Configuration.ffdnet()
        ffdnet.architecture = .autoencoder
        #expect(ffdnet.kind == .autoencoder(latentDim: 0, stride: 1))
        #expect(throws: DAEError.invalidConfiguration("latentDim must be positive, got 0")) { try ffdnet.validate() }
    }

    @Test("fields a kind cannot have are refused when read, with validate()'s former reasons", arguments: [
        (#""architecture":"residual","latentDim":0,"stride":2"#, "a residual model's convolutions have stride 1, got stride 2"),
        (#""architecture":"autoencoder","latentDim":4,"stride":2,"noiseMap":true"#,
         "downsampling and a noise map are for residual models; an autoencoder has neither"),
        (#""latentDim":4,"stride":2,"downsampling":2"#, "downsampling and a noise map are for residual models; an autoencoder has neither"),
    ])
    func refusedFields(_ fields: String, reason: String) throws {
        let json = #"{"inputShape":[8,8,1],"kernelSize":3,"layerFilters":[2],"#
            + #""optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"# + fields + "}"
        #expect(throws: DAEError.invalidConfiguration(reason)) { try JSONCoding.decode(Configuration.self, from: json) }
        try withTemporaryDirectory("dae-kind") { directory in
            let url = directory.appendingPathComponent("kind.safetensors")
            try SafetensorsFile(metadata: ["format": "DAEKit checkpoint", "configuration": json]).write(to: url)
            #expect(throws: DAEError.corruptFile(path: url.path, reason: "its configuration cannot be built: \(reason)")) {
                try DenoisingAutoencoder(contentsOf: url)
            }
        }
    }

    @Test("an architecture entry with fields its kind cannot have is refused like a configuration")
    func refusedArchitectureEntries() throws {
        let residual = #"{"input_shape":[8,8,1],"layer_filters":[2],"kernel_size":3,"kind":"residual","strides":2}"#
        #expect(throws: DAEError.invalidConfiguration("a residual model's convolutions have stride 1, got stride 2")) {
            try Configuration(architectureJSON: residual, path: "entry")
        }
        let autoencoder = #"{"input_shape":[8,8,1],"layer_filters":[2],"kernel_size":3,"latent_dim":4,"noise_map":true}"#
        #expect(throws: DAEError.invalidConfiguration("downsampling and a noise map are for residual models; an autoencoder has neither")) {
            try Configuration(architectureJSON: autoencoder, path: "entry")
        }
        try withTemporaryDirectory("dae-kind") { directory in
            let url = directory.appendingPathComponent("entry.safetensors")
            try SafetensorsFile(metadata: ["architecture": residual]).write(to: url)
            #expect(throws: DAEError.corruptFile(path: url.path, reason: "its configuration cannot be built: "
                                                     + "a residual model's convolutions have stride 1, got stride 2")) {
                try DenoisingAutoencoder(contentsOf: url)
            }
        }
    }

    @Test("a residual configuration written with a latent size still reads; it writes latentDim 0")
    func residualLatentSizeIsIgnored() throws {
        let json = #"{"architecture":"residual","inputShape":[40,40,3],"kernelSize":3,"latentDim":16,"layerFilters":[48,48,48,48,48,48],"#
            + #""optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#
        let decoded = try JSONCoding.decode(Configuration.self, from: json)
        #expect(decoded == .photo())
        #expect(try JSONCoding.string(decoded) == json.replacingOccurrences(of: #""latentDim":16"#, with: #""latentDim":0"#))
    }
}
