import DAEImageIO
import DAEKit
import DAETestSupport
import Foundation
import Testing

/// The FFDNet-style residual model: pixel unshuffle, a noise-level map,
/// exact tiling at any size, training with the map, and the noise estimate.
@Suite("Noise-map model (FFDNet-style)")
struct NoiseMapModelTests {
    /// A small model of the `ffdnet` kind: unshuffle 2, 3 convolutions of 8, noise map.
    static func smallModel(channels: Int = 3, seed: UInt64 = 7) throws -> DenoisingAutoencoder {
        try Photos.residualModel(channels: channels, seed: seed) { .ffdnet(channels: $0) }
    }

    /// 64 augmented 16×16 RGB patches an epoch from the test photographs written into `directory`.
    static func trainingPatches(in directory: URL) throws -> PatchSampler {
        let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
        return try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 64, augment: true, scales: [1], seed: 2)
    }

    @Test("the preset is one list of layer specs, and every count comes from it")
    func presetSpecs() throws {
        let configuration = DenoisingAutoencoder.Configuration.ffdnet(channels: 3)
        let specs = configuration.layerSpecs
        #expect(specs.map(\.name) == ["denoiser.downsample"] + (0..<11).map { "denoiser.conv\($0)" } + ["denoiser.output", "denoiser.upsample"])
        #expect(specs.first?.kind == .spaceToDepth(block: 2) && specs.last?.kind == .depthToSpace(block: 2))
        #expect(specs[specs.count - 2].kind == .conv2D(filters: 12, kernelSize: 3, stride: 1))
        #expect(configuration.networkInputShape == [64, 64, 4])
        #expect(configuration.receptiveRadius == 24)
        let model = try DenoisingAutoencoder(configuration: configuration, seed: 1)
        // 16·64·9 + 64 + 10·(64·64·9 + 64) + 64·12·9 + 12
        #expect(model.parameterCount == 9_280 + 369_280 + 6_924)
        #expect(model.network.inputShape == [64, 64, 4] && model.network.outputShape == [64, 64, 3])
        #expect(model.summary().contains("SpaceToDepth") && model.summary().contains("DepthToSpace"))
        // The tutorial's list builds the same network as before: names and the parameter count.
        let tutorial = DenoisingAutoencoder.Configuration()
        #expect(tutorial.layerSpecs.map(\.name) == ["encoder.conv0", "encoder.conv1", "encoder.flatten", "encoder.latent",
                                                    "decoder.dense", "decoder.reshape", "decoder.deconv0", "decoder.deconv1",
                                                    "decoder.output"])
        #expect(try DenoisingAutoencoder(configuration: tutorial, seed: 1).parameterCount == 178_001)
    }

    @Test("configurations without the new fields decode as before and encode to the same bytes")
    func configurationCompatibility() throws {
        let old = #"{"architecture":"residual","inputShape":[40,40,3],"kernelSize":3,"latentDim":0,"layerFilters":[48],"#
            + #""optimizer":{"beta1":0.9,"beta2":0.999,"epsilon":1e-07,"learningRate":0.001},"stride":1}"#
        let decoded = try JSONDecoder().decode(DenoisingAutoencoder.Configuration.self, from: Data(old.utf8))
        #expect(decoded.downsampling == 1 && !decoded.noiseMap)
        let encoded = String(decoding: try JSONEncoder().encode(DenoisingAutoencoder.Configuration.photo()), as: UTF8.self)
        #expect(!encoded.contains("downsampling") && !encoded.contains("noiseMap"))
        let roundTrip = try JSONDecoder().decode(DenoisingAutoencoder.Configuration.self,
                                                 from: try JSONEncoder().encode(DenoisingAutoencoder.Configuration.ffdnet()))
        #expect(roundTrip == .ffdnet())
    }

    @Test("bad downsampling is refused with the reason")
    func refusesBadConfigurations() {
        var odd = DenoisingAutoencoder.Configuration.ffdnet()
        odd.inputShape = [63, 64, 3]
        #expect(throws: DAEError.self) { try odd.validate() }
        // An autoencoder has no noise map (its kind holds only its own fields): setting one changes
        // nothing; a stored one is refused when read (ConfigurationKindTests.refusedFields).
        var autoencoder = DenoisingAutoencoder.Configuration()
        autoencoder.noiseMap = true
        #expect(autoencoder == DenoisingAutoencoder.Configuration() && !autoencoder.noiseMap)
    }

    @Test("the whole network's gradients match finite differences")
    func gradientCheck() throws {
        var configuration = DenoisingAutoencoder.Configuration.ffdnet(channels: 1)
        configuration.layerFilters = [3]
        configuration.inputShape = [4, 6, 1]
        let model = try DenoisingAutoencoder(configuration: configuration, seed: 3)
        let checker = GradientChecker()
        let x = randomTensor(shape: [2, 4, 6, 2], seed: 4)
        let target = randomTensor(shape: [2, 4, 6, 1], seed: 5, range: -0.2...0.2)
        checker.expectPasses(try checker.check(network: model.network, input: x, target: target), "unshuffle + conv + shuffle")
    }

    @Test("images of any size: tiled in memory equals streamed from a file, bit for bit; whole-image pass within 1e-5",
          arguments: [(301, 259), (130, 7), (1, 1), (256, 257), (264, 7)])
    func tilingIsExact(_ size: (Int, Int)) throws {
        let (width, height) = size
        let model = try Self.smallModel()
        let image = try Photos.image(width: width, height: height, channels: 3, seed: 9)
        let batch = Tensor(shape: [1, height, width, 3], scalars: image.pixels.map { Float($0) / 255 })
        let level: Float = 20 / 255
        let inMemory = try model.denoise(batch, noiseLevel: level)
        try withTemporaryDirectory { directory in
            let input = directory.appendingPathComponent("in.png"), output = directory.appendingPathComponent("out.png")
            try PNG.write(image, to: input)
            let report = try model.denoiseImageFile(input, to: output, noiseLevel: level)
            #expect(report.noiseLevel == level)
            let streamed = try PNG.read(contentsOf: output)
            #expect(streamed.pixels == inMemory.scalars.map(Image.byte(from:)))
        }
        // One pass over the image padded to even sides by repeating its edge, without tiles.
        let (evenH, evenW) = ((height + 1) / 2 * 2, (width + 1) / 2 * 2)
        // (Plain arrays: element writes through Tensor.scalars copy in debug builds.)
        let source = batch.scalars
        var paddedScalars = [Float](repeating: level, count: evenH * evenW * 4)
        for y in 0..<evenH {
            for x in 0..<evenW {
                for c in 0..<3 { paddedScalars[(y * evenW + x) * 4 + c] = source[(min(y, height - 1) * width + min(x, width - 1)) * 3 + c] }
            }
        }
        let whole = try wholePass(model, Tensor(shape: [1, evenH, evenW, 4], scalars: paddedScalars)).scalars
        let denoised = inMemory.scalars
        var worst: Float = 0
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<3 {
                    let expected = min(max(source[(y * width + x) * 3 + c] - whole[(y * evenW + x) * 3 + c], 0), 1)
                    worst = max(worst, abs(expected - denoised[(y * width + x) * 3 + c]))
                }
            }
        }
        #expect(worst < 1e-5)
    }

    /// The model's layers run once over `input`, built from its public parameters.
    func wholePass(_ model: DenoisingAutoencoder, _ input: Tensor) throws -> Tensor {
        var x = try SpaceToDepth(name: "down", inputShape: Array(input.shape.dropFirst()), block: 2)(input)
        let hidden = model.configuration.layerFilters.count
        for i in 0...hidden {
            let name = i < hidden ? "denoiser.conv\(i)" : "denoiser.output"
            x = try Conv2D(name: name, inputShape: Array(x.shape.dropFirst()), kernel: try #require(model.parameters[name + ".kernel"]),
                           bias: try #require(model.parameters[name + ".bias"]), stride: 1, padding: .same,
                           activation: i < hidden ? .relu : .identity)(x)
        }
        return try DepthToSpace(name: "up", inputShape: Array(x.shape.dropFirst()), block: 2)(x)
    }

    @Test("the noise level reaches the network: another level, another output; nil uses the estimate")
    func noiseLevelMatters() throws {
        let model = try Self.smallModel()
        let batch = randomTensor(shape: [2, 20, 18, 3], seed: 11)
        let low = try model.denoise(batch, noiseLevel: 0), high = try model.denoise(batch, noiseLevel: 0.2)
        #expect(low.scalars != high.scalars)
        let levels = model.estimatedNoiseLevels(batch)
        #expect(levels.count == 2)
        let first = try model.denoise(Tensor(shape: [1, 20, 18, 3], scalars: Array(batch.scalars[0..<(20 * 18 * 3)])), noiseLevel: levels[0])
        #expect(Array(try model.denoise(batch).scalars[0..<(20 * 18 * 3)]) == first.scalars)
        #expect(throws: DAEError.self) { try model.denoise(batch, noiseLevel: 1.5) }
    }

    @Test("training with the map learns, and a resumed fit equals an uninterrupted one (with either loss weighting)",
          arguments: [LossWeighting.uniform, .photoBalanced])
    func trainsAndResumes(weighting: LossWeighting) throws {
        try withTemporaryDirectory { directory in
            let patches = try Self.trainingPatches(in: directory)
            var options = TrainingOptions(epochs: 2, batchSize: 16, noise: .photoBlind, seed: 3)
            options.lossWeighting = weighting
            var straight = try Self.smallModel()
            let history = try straight.fit(patches, validation: patches, options: options)
            #expect(history.epochs.count == 2 && history.epochs.allSatisfy { $0.trainLoss.isFinite })
            #expect(history.epochs[1].trainLoss < history.epochs[0].trainLoss)
            let resumed = try Photos.resumedFit(try Self.smallModel(), on: patches, validation: patches, options: options,
                                                in: directory)
            #expect(resumed.parameters == straight.parameters)
        }
    }

    @Test("lossAndGradients and trainStep fill the map with each pair's noise std")
    func publicTrainingCalls() throws {
        var model = try Self.smallModel(channels: 1)
        let clean = randomTensor(shape: [2, 16, 16, 1], seed: 21, range: 0.3...0.7)
        let noisy = NoiseModel.photo(std: 0.1).applied(to: clean, seed: 22)
        let (loss, gradients) = try model.lossAndGradients(noisy: noisy, clean: clean)
        #expect(loss.isFinite && loss > 0)
        #expect(gradients["denoiser.conv0.kernel"]?.shape == [3, 3, 8, 8])
        let before = try model.trainStep(noisy: noisy, clean: clean)
        #expect(before == loss)
    }
}

@Suite("Noise level estimation")
struct NoiseLevelEstimatorTests {
    /// A smooth image with texture of `width × height × channels`, plus Gaussian noise of `sigma`, clipped.
    static func noisyImage(width: Int, height: Int, channels: Int, sigma: Float, seed: UInt64) -> [Float] {
        var pixels = [Float]()
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    pixels.append(0.5 + 0.3 * Float(sin(Double(x) / 37 + Double(c))) * Float(cos(Double(y) / 23)))
                }
            }
        }
        var tensor = Tensor(shape: [1, height, width, channels], scalars: pixels)
        var rng = SplitMix64(seed: seed)
        NoiseModel.photo(std: sigma).apply(to: &tensor, using: &rng)
        return tensor.scalars
    }

    @Test("known noise std: estimated within -5% … +15% (it may err high, not low)", arguments: [5, 15, 25, 50] as [Float])
    func knownSigma(_ sigma255: Float) {
        let sigma = sigma255 / 255
        for channels in [1, 3] {
            let image = Self.noisyImage(width: 300, height: 200, channels: channels, sigma: sigma, seed: UInt64(sigma255))
            let estimate = image.withUnsafeBufferPointer {
                NoiseLevelEstimator.estimate($0, height: 200, width: 300, channels: channels)
            }
            #expect(estimate >= 0.95 * sigma && estimate <= 1.15 * sigma, "σ \(sigma255): estimated \(estimate * 255)")
        }
    }

    @Test("a clean smooth image estimates near zero; streaming rows in pairs equals one call")
    func cleanAndStreamed() {
        let clean = Self.noisyImage(width: 120, height: 80, channels: 3, sigma: 0, seed: 1)
        #expect(clean.withUnsafeBufferPointer { NoiseLevelEstimator.estimate($0, height: 80, width: 120, channels: 3) } < 1.0 / 255)
        let noisy = Self.noisyImage(width: 120, height: 80, channels: 3, sigma: 0.1, seed: 2)
        var streamed = NoiseLevelEstimator()
        noisy.withUnsafeBufferPointer { p in
            for top in stride(from: 0, to: 80, by: 16) {
                streamed.add(rows: p.baseAddress! + top * 120 * 3, rowCount: 16, width: 120, channels: 3)
            }
        }
        #expect(streamed.estimate == noisy.withUnsafeBufferPointer { NoiseLevelEstimator.estimate($0, height: 80, width: 120, channels: 3) })
    }
}

@Suite("The built-in photo denoiser")
struct BuiltInModelTests {
    @Test("the shipped files load as the builtInPhotoDeep architecture and denoise any size",
          arguments: [PretrainedModel.photo, .photoGray])
    func shippedModelLoadsAndDenoises(which: PretrainedModel) throws {
        let url = try #require(DenoisingAutoencoder.pretrainedURL(which), "the package's resource bundle lacks the built-in model \(which)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int)
        #expect(size <= 8 << 20)
        var model = try DenoisingAutoencoder.pretrained(which)
        let channels = which == .photoGray ? 1 : 3
        #expect(PretrainedModel.photo(channels: channels) == which)
        var expected = DenoisingAutoencoder.Configuration.builtInPhotoDeep(channels: channels)
        expected.inputShape = model.configuration.inputShape
        expected.optimizer = model.configuration.optimizer  // a fine-tuning run's Adam rate is its own
        #expect(model.configuration == expected)
        #expect(model.parameterCount == (channels == 3 ? 314_835 : 313_105))
        #expect(model.epochsCompleted >= 1)
        model.workers = 2
        var pixels = [Float]()  // smooth, like a photograph's content
        for y in 0..<150 { for x in 0..<131 { for c in 0..<channels { pixels.append(0.5 + 0.3 * Float(sin(Double(x) / 13 + Double(c)) * cos(Double(y) / 9))) } } }
        let clean = Tensor(shape: [1, 150, 131, channels], scalars: pixels)
        let noisy = NoiseModel.photo(std: 25 / 255).applied(to: clean, seed: 1)
        let denoised = try model.denoise(noisy)
        func mse(_ t: Tensor) -> Double { zip(t.scalars, clean.scalars).reduce(0) { $0 + pow(Double($1.0 - $1.1), 2) } / Double(t.count) }
        #expect(mse(denoised) < mse(noisy) / 2, "the built-in model should remove most of σ 25 noise")
        let level = try #require(model.estimatedNoiseLevels(noisy).first)
        #expect(abs(level * 255 - 25) < 3)
    }

    @Test("the builtInPhoto preset: a noise map, 10 convolutions of 48, He-uniform kernels")
    func preset() throws {
        let configuration = DenoisingAutoencoder.Configuration.builtInPhoto(channels: 1)
        #expect(configuration.noiseMap && configuration.downsampling == 1 && configuration.kernelInitializer == .heUniform)
        #expect(configuration.layerSpecs.count == 10 && configuration.receptiveRadius == 10)
        #expect(configuration.networkInputShape == [48, 48, 2])
        let specs = configuration.layerSpecs
        #expect(specs.allSatisfy { $0.kernelInitializer == .heUniform })
    }
}

@Suite("Image folders of links")
struct LinkedImageFolderTests {
    @Test("symbolic links to image files are listed under their own names; links to folders or nothing are not")
    func followsLinksToFiles() throws {
        try withTemporaryDirectory { directory in
            let originals = directory.appendingPathComponent("originals"), linked = directory.appendingPathComponent("linked")
            try FileManager.default.createDirectory(at: originals, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: linked, withIntermediateDirectories: true)
            for i in 0..<2 {
                try PNG.write(try Photos.image(width: 30, height: 20, channels: 3, seed: UInt64(i)), to: originals.appendingPathComponent("o\(i).png"))
                try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("l\(i).png"),
                                                           withDestinationURL: originals.appendingPathComponent("o\(i).png"))
            }
            try FileManager.default.createSymbolicLink(at: linked.appendingPathComponent("dangling.png"),
                                                       withDestinationURL: directory.appendingPathComponent("missing.png"))
            try PNG.write(try Photos.image(width: 30, height: 20, channels: 1, seed: 7), to: linked.appendingPathComponent("real.png"))
            let folder = try ImageFolder(directory: linked)
            #expect(folder.files.map(\.name) == ["l0.png", "l1.png", "real.png"])
            #expect(try folder.image(at: 0).width == 30)
        }
    }
}
