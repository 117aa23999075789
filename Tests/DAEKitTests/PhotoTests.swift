import DAEImageIO
import DAEKit
import Foundation
import Testing

/// Small photographs the tests write: smooth shapes with texture, gray or RGB.
enum Photos {
    static func image(width: Int, height: Int, channels: Int, seed: UInt64) throws -> Image {
        var rng = SplitMix64(seed: seed)
        let (cx, cy) = (Double(rng.next() % UInt64(width)), Double(rng.next() % UInt64(height)))
        var pixels = [UInt8]()
        for y in 0..<height {
            for x in 0..<width {
                let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                for c in 0..<channels {
                    let value = 128 + 90 * sin(d / 7 + Double(c)) + Double(rng.next() % 9)
                    pixels.append(UInt8(max(0, min(255, value))))
                }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// A folder of 4 images of different sizes and formats (one in a subfolder, one gray), plus files to ignore.
    static func folder(in directory: URL) throws -> URL {
        let root = directory.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try JPEG.write(try image(width: 70, height: 52, channels: 3, seed: 1), to: root.appendingPathComponent("b.jpg"), quality: 95)
        try PNG.write(try image(width: 48, height: 61, channels: 3, seed: 2), to: root.appendingPathComponent("a.png"))
        try PNG.write(try image(width: 57, height: 40, channels: 1, seed: 3), to: root.appendingPathComponent("sub/c.PNG"))
        try JPEG.write(try image(width: 45, height: 45, channels: 3, seed: 4), to: root.appendingPathComponent("d.jpeg"))
        try Data("not an image".utf8).write(to: root.appendingPathComponent("README.txt"))
        try Data("hidden".utf8).write(to: root.appendingPathComponent(".hidden.png"))
        return root
    }

    /// The raw output (the predicted noise) of a residual model's layers run
    /// once over the whole batch, built from its public parameters.
    static func prediction(of model: DenoisingAutoencoder, on batch: Tensor) throws -> Tensor {
        let hidden = model.configuration.layerFilters.count
        var x = batch
        for i in 0...hidden {
            let name = i < hidden ? "denoiser.conv\(i)" : "denoiser.output"
            let conv = try Conv2D(name: name, inputShape: Array(x.shape.dropFirst()),
                                  kernel: try #require(model.parameters[name + ".kernel"]),
                                  bias: try #require(model.parameters[name + ".bias"]),
                                  stride: 1, padding: .same, activation: i < hidden ? .relu : .identity)
            x = try conv(x)
        }
        return x
    }

    /// A small residual model: 3 convolutions of 8 filters, otherwise `preset`'s architecture.
    static func residualModel(channels: Int = 3, seed: UInt64 = 5,
                              preset: (Int) -> DenoisingAutoencoder.Configuration = { .photo(channels: $0) }) throws -> DenoisingAutoencoder {
        var configuration = preset(channels)
        configuration.layerFilters = [8, 8]
        configuration.inputShape = [16, 16, channels]
        var model = try DenoisingAutoencoder(configuration: configuration, seed: seed)
        model.workers = 2
        return model
    }

    /// `model` trained as `--resume` trains it: the first half of
    /// `options.epochs`, saved to a checkpoint in `directory`, loaded back
    /// (on 2 workers) and trained the rest. It must equal an uninterrupted `fit`.
    static func resumedFit(_ model: DenoisingAutoencoder, on patches: some ImageSource, validation: (any ImageSource)? = nil,
                           options: TrainingOptions, in directory: URL) throws -> DenoisingAutoencoder {
        var first = model, part = options
        part.epochs = options.epochs / 2
        try first.fit(patches, validation: validation, options: part)
        let url = directory.appendingPathComponent("half.safetensors")
        try first.save(to: url)
        var resumed = try DenoisingAutoencoder(contentsOf: url)
        #expect(resumed.configuration == first.configuration)
        resumed.workers = 2
        part.epochs = options.epochs - part.epochs
        try resumed.fit(patches, validation: validation, options: part)
        return resumed
    }
}

@Suite("Training on a folder of photographs")
struct ImageFolderTests {
    @Test("a folder lists its PNG and JPEG files by relative name, in colour when any file is")
    func listing() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory))
            #expect(folder.files.map(\.name) == ["a.png", "b.jpg", "d.jpeg", "sub/c.PNG"])
            #expect(folder.channels == 3)
            #expect(folder.files.map { [$0.width, $0.height] } == [[48, 61], [70, 52], [45, 45], [57, 40]])
            #expect(folder.totalDecodedBytes == (48 * 61 + 70 * 52 + 45 * 45 + 57 * 40) * 3)
            let gray = try folder.image(at: 3)
            #expect(gray.channels == 3 && gray.width == 57)
            #expect(folder.residentBytes == 57 * 40 * 3)
        }
    }

    @Test("the split holds out the last files by name, the same every time")
    func split() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 1)
            let (train, validation) = try folder.split(validationFiles: 1)
            #expect(train.files.map(\.name) == ["a.png", "b.jpg", "d.jpeg"])
            #expect(validation.files.map(\.name) == ["sub/c.PNG"])
            #expect(throws: DAEError.self) { try folder.split(validationFiles: 4) }
            #expect(ImageFolder.defaultValidationFiles(count: 12) == 2)
            #expect(ImageFolder.defaultValidationFiles(count: 3) == 1)
        }
    }

    @Test("an empty folder, or a damaged image in it, is an error naming the problem")
    func errors() throws {
        try withTemporaryDirectory { directory in
            #expect(throws: DAEError.self) { try ImageFolder(directory: directory) }
            let root = try Photos.folder(in: directory)
            try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).write(to: root.appendingPathComponent("broken.jpg"))
            let error = #expect(throws: DAEError.self) { try ImageFolder(directory: root) }
            #expect(error?.description.contains("broken.jpg") == true)
        }
    }

    @Test("a memory budget smaller than the images keeps only what fits")
    func budget() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3, memoryBudget: 12_000)
            for index in folder.files.indices { _ = try folder.image(at: index) }
            #expect(folder.residentBytes <= 12_000)
            #expect(folder.residentBytes > 0)
        }
    }

    @Test("patches are a pure function of seed, epoch and index")
    func patchDeterminism() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory))
            let sampler = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 10, seed: 3)
            func patches(_ indices: [Int], epoch: Int, _ s: PatchSampler = sampler) -> [Float] {
                var out = [Float](repeating: -1, count: indices.count * 16 * 16 * 3)
                out.withUnsafeMutableBufferPointer { s.fill(indices, epoch: epoch, into: $0.baseAddress!) }
                return out
            }
            let all = patches(Array(0..<10), epoch: 2)
            #expect(all == patches(Array(0..<10), epoch: 2))
            #expect(Array(all[(7 * 768)..<(8 * 768)]) == patches([7], epoch: 2))
            #expect(all != patches(Array(0..<10), epoch: 3))
            #expect(all.allSatisfy { (0...1).contains($0) })
            let other = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 10, seed: 4)
            #expect(all != patches(Array(0..<10), epoch: 2, other))
            // Outside training, epoch 0's fixed patches.
            var fixed = [Float](repeating: 0, count: 768)
            fixed.withUnsafeMutableBufferPointer { sampler.fill([1], into: $0.baseAddress!) }
            #expect(fixed == patches([1], epoch: 0))
        }
    }

    @Test("a patch at scale s averages the s × s blocks of its region; scales that do not fit are not drawn")
    func scaledPatches() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 1)
            let sampler = try PatchSampler(folder, patchSize: 8, patchesPerEpoch: 40, augment: false, scales: [1, 2, 5], seed: 6)
            var drawn = Set<Int>()
            for index in 0..<40 {
                let place = sampler.placement(epoch: 1, index: index)
                drawn.insert(place.scale)
                let image = try folder.image(at: place.image)
                #expect(place.y + 8 * place.scale <= image.height && place.x + 8 * place.scale <= image.width)
                var patch = [Float](repeating: 0, count: 64)
                patch.withUnsafeMutableBufferPointer { sampler.fill([index], epoch: 1, into: $0.baseAddress!) }
                for (y, x) in [(0, 0), (3, 5), (7, 7)] {
                    var sum = 0
                    for by in 0..<place.scale {
                        for bx in 0..<place.scale {
                            sum += Int(image[place.y + y * place.scale + by, place.x + x * place.scale + bx, 0])
                        }
                    }
                    #expect(patch[y * 8 + x] == Float(sum) / (255 * Float(place.scale * place.scale)))
                }
            }
            #expect(drawn == [1, 2, 5])
            #expect(throws: DAEError.self) { try PatchSampler(folder, patchSize: 8, patchesPerEpoch: 4, scales: [0]) }
        }
    }

    @Test("gray patches: a fraction of colour patches get their channels' mean, the rest and the placements are unchanged")
    func grayPatches() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            let count = 200, values = 16 * 16 * 3
            let plain = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: count, scales: [1, 2], seed: 9)
            let mixed = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: count, scales: [1, 2], grayFraction: 0.3, seed: 9)
            var a = [Float](repeating: 0, count: count * values), b = a
            a.withUnsafeMutableBufferPointer { plain.fill(0..<count, epoch: 3, into: $0.baseAddress!) }
            b.withUnsafeMutableBufferPointer { mixed.fill(0..<count, epoch: 3, into: $0.baseAddress!) }
            var grayCount = 0
            for index in 0..<count {
                // The gray draw comes after the others: the same image, scale, corner and orientation.
                #expect(mixed.placement(epoch: 3, index: index) == plain.placement(epoch: 3, index: index))
                #expect(!plain.isGray(epoch: 3, index: index))
                let colour = a[index * values..<(index + 1) * values], patch = b[index * values..<(index + 1) * values]
                guard mixed.isGray(epoch: 3, index: index) else {
                    #expect(patch == colour)
                    continue
                }
                grayCount += 1
                for pixel in stride(from: index * values, to: (index + 1) * values, by: 3) {
                    let mean = (a[pixel] + a[pixel + 1] + a[pixel + 2]) / 3
                    #expect(b[pixel] == mean && b[pixel + 1] == mean && b[pixel + 2] == mean)
                }
            }
            // 30% of 200 draws: 60 expected, the binomial's standard deviation 6.5.
            #expect((35...85).contains(grayCount), "\(grayCount) gray patches of \(count)")
            let all = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 20, grayFraction: 1, seed: 9)
            #expect((0..<20).allSatisfy { all.isGray(epoch: 1, index: $0) })
            #expect(throws: DAEError.self) { try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 4, grayFraction: 1.5) }
            let gray = try ImageFolder(directory: try Photos.folder(in: directory), channels: 1)
            #expect(throws: DAEError.self) { try PatchSampler(gray, patchSize: 16, patchesPerEpoch: 4, grayFraction: 0.5) }
        }
    }

    @Test("the 8 orientations are the 8 distinct symmetries of the square")
    func orientations() throws {
        let side = 3
        var seen = Set<[Int]>()
        for transform in 0..<8 {
            let map = (0..<side * side).map { i -> Int in
                let (y, x) = PatchSampler.orient(i / side, i % side, side: side, transform: transform)
                return y * side + x
            }
            #expect(Set(map).count == side * side)
            seen.insert(map)
        }
        #expect(seen.count == 8)
    }

    @Test("training on patches resumes bit for bit from a checkpoint")
    func exactResume() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory))
            let patches = try PatchSampler(folder, patchSize: 16, patchesPerEpoch: 24, seed: 9)
            let options = TrainingOptions(epochs: 2, batchSize: 8, noise: .photoBlind, seed: 11)
            var straight = try Photos.residualModel()
            try straight.fit(patches, options: options)
            let resumed = try Photos.resumedFit(try Photos.residualModel(), on: patches, options: options, in: directory)
            #expect(resumed.parameters == straight.parameters)
            #expect(resumed.configuration.architecture == .residual)
        }
    }
}

@Suite("Learning-rate schedules")
struct LearningRateScheduleTests {
    @Test("a cosine schedule falls from the full rate to its floor, by epoch number")
    func cosineFactors() throws {
        let schedule = LearningRateSchedule.cosine(epochs: 5, floor: 0.1)
        #expect(schedule.factor(epoch: 1) == 1)
        #expect(abs(schedule.factor(epoch: 3) - 0.55) < 1e-6)
        #expect(abs(schedule.factor(epoch: 5) - 0.1) < 1e-6)
        #expect(abs(schedule.factor(epoch: 9) - 0.1) < 1e-6)
        #expect(LearningRateSchedule.constant.factor(epoch: 7) == 1)
        #expect(throws: DAEError.self) { try LearningRateSchedule.cosine(epochs: 0, floor: 0.1).validate() }
        #expect(throws: DAEError.self) { try LearningRateSchedule.cosine(epochs: 3, floor: 2).validate() }
    }

    @Test("a factor of 0 leaves the weights where the previous epoch left them")
    func zeroFloorFreezesTheLastEpoch() throws {
        let images = try Tensor(images: (0..<(8 * 28 * 28)).map { Float($0 % 31) / 30 }, imageShape: [28, 28, 1])
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 3)
        model.workers = 1
        var options = TrainingOptions(epochs: 1, batchSize: 4, seed: 5)
        options.learningRateSchedule = .cosine(epochs: 2, floor: 0)
        try model.fit(images, options: options)
        let afterFirst = model.parameters
        try model.fit(images, options: options)
        #expect(model.epochsCompleted == 2)
        #expect(model.parameters == afterFirst)
        // Options written before schedules existed still decode (constant).
        let legacy = #"{"epochs":1,"batchSize":4,"noise":{"gaussian":{"mean":0.5,"std":0.5}},"freshNoiseEachEpoch":true,"shuffle":true,"seed":5}"#
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: Data(legacy.utf8)).learningRateSchedule == .constant)
    }
}

@Suite("Custom data without unsafe pointers")
struct CustomDataTests {
    @Test("[Float] and [UInt8] images of one shape train directly")
    func safeInitialisers() throws {
        let floats = (0..<(6 * 28 * 28)).map { Float($0 % 97) / 96 }
        let frames = try Tensor(images: floats, imageShape: [28, 28, 1])
        #expect(frames.shape == [6, 28, 28, 1])
        let bytes = try ImageDataset(pixels: floats.map { UInt8($0 * 255) }, imageShape: [28, 28, 1])
        #expect(bytes.count == 6)
        var model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        model.workers = 1
        try model.fit(frames, options: TrainingOptions(epochs: 1, batchSize: 3))
        try model.fit(bytes, options: TrainingOptions(epochs: 1, batchSize: 3))
        #expect(model.epochsCompleted == 2)
        #expect(throws: DAEError.self) { try Tensor(images: [0.5, 2], imageShape: [1, 2, 1]) }
        #expect(throws: DAEError.self) { try Tensor(images: [0.5, 0.5, 0.5], imageShape: [1, 2, 1]) }
        #expect(throws: DAEError.self) { try ImageDataset(pixels: [1, 2, 3], imageShape: [2, 0, 1]) }
    }
}

@Suite("The residual photo model")
struct ResidualModelTests {
    @Test("the photo preset: 7 convolutions, 106 563 parameters in RGB, a 15×15 receptive field")
    func preset() throws {
        let model = try DenoisingAutoencoder(configuration: .photo(), seed: 1)
        #expect(model.parameterCount == 106_563)
        #expect(model.configuration.receptiveRadius == 7)
        #expect(model.parameterNames.first == "denoiser.conv0.kernel")
        #expect(model.parameterNames.last == "denoiser.output.bias")
        #expect(model.parameters["denoiser.output.kernel"]?.shape == [3, 3, 48, 3])
        #expect(model.latentSpace == nil)  // no encode or decode: a fully convolutional denoiser has no latent space
        // A residual model has no stride (its kind holds only its own fields): setting one changes
        // nothing; a stored stride 2 is refused when read (ConfigurationKindTests.refusedFields).
        var strided = DenoisingAutoencoder.Configuration.photo()
        strided.stride = 2
        #expect(strided == .photo() && strided.stride == 1)
    }

    @Test("tiled inference equals one pass over the whole image (to float rounding: the GEMMs differ in size)",
          arguments: [(300, 270), (129, 5), (7, 140), (260, 131), (257, 5), (7, 270), (520, 131)])
    func tiledEqualsWhole(size: (height: Int, width: Int)) throws {
        let model = try Photos.residualModel()
        let image = try Photos.image(width: size.width, height: size.height, channels: 3, seed: 8).tensor(channels: 3)
        let tiled = try model.denoise(image)
        // The same weights as one network over the whole image.
        let prediction = try Photos.prediction(of: model, on: image)
        let whole = Tensor(shape: image.shape, scalars: zip(image.scalars, prediction.scalars).map { min(max($0 - $1, 0), 1) })
        #expect(tiled.shape == image.shape)
        // Every output pixel sees the same inputs and padding; only the order of
        // OpenBLAS's sums may differ with the GEMM's size, in the last bits.
        let worst = zip(tiled.scalars, whole.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5, "largest difference \(worst)")
        // Streaming uses the same cut as the in-memory pass: there, bit for bit (streamedFile).
    }

    @Test("a streamed file equals the whole image denoised in memory", arguments: [1, 3])
    func streamedFile(channels: Int) throws {
        try withTemporaryDirectory { directory in
            let model = try Photos.residualModel(channels: channels)
            let picture = try Photos.image(width: 150, height: 300, channels: 3, seed: 12)
            let input = directory.appendingPathComponent("in.jpg")
            try JPEG.write(picture, to: input, quality: 92)
            let output = directory.appendingPathComponent("out.png")
            let report = try model.denoiseImageFile(input, to: output)
            #expect(report.width == 150 && report.height == 300 && report.channels == channels)
            let clean = try ImageFile.read(contentsOf: input, channels: channels).tensor(channels: channels)
            let expected = try Image(tensor: model.denoise(clean), index: 0)
            #expect(try PNG.read(contentsOf: output) == expected)
        }
    }

    @Test("an autoencoder's streamed file equals its blended tiles in memory (one tiler)",
          arguments: [(1, 0), (3, 6), (1, 14)])
    func streamedAutoencoderFile(channels: Int, overlap: Int) throws {
        try withTemporaryDirectory { directory in
            let model = try DenoisingAutoencoder(
                configuration: .init(inputShape: [16, 16, channels], layerFilters: [4, 8], latentDim: 8), seed: 3)
            // Tall enough that the streamed pass finishes rows many times (pending rows shift).
            let picture = try Photos.image(width: 41, height: 97, channels: 3, seed: 5)
            let input = directory.appendingPathComponent("in.png")
            try PNG.write(picture, to: input)
            let output = directory.appendingPathComponent("out.png")
            let report = try model.denoiseImageFile(input, to: output, overlap: overlap)
            let plan = try TilePlan(imageHeight: 97, imageWidth: 41, tileHeight: 16, tileWidth: 16, minimumOverlap: overlap)
            #expect(report.method == "\(plan.tileCount) tiles of 16x16")
            let image = try ImageFile.read(contentsOf: input, channels: channels).tensor(channels: channels)
            let expected = try Image(tensor: plan.apply(to: image) { try model.denoise($0) }, index: 0)
            #expect(try PNG.read(contentsOf: output) == expected)
        }
    }

    @Test("the loss is that of noisy − predicted noise against clean")
    func residualLoss() throws {
        var model = try Photos.residualModel(channels: 1)
        let clean = try Photos.image(width: 16, height: 16, channels: 1, seed: 2).tensor(channels: 1)
        let noisy = DenoisingAutoencoder.noisyPhoto(clean, std: 0.1, seed: 1, index: 0)
        let (loss, gradients) = try model.lossAndGradients(noisy: noisy, clean: clean)
        let prediction = try Photos.prediction(of: model, on: noisy)
        let expected = zip(zip(noisy.scalars, prediction.scalars), clean.scalars)
            .map { pair -> Double in let d = Double(pair.0.0 - pair.0.1 - pair.1); return d * d }
            .reduce(0, +) / Double(clean.count)
        #expect(abs(Double(loss) - expected) <= 1e-6 * max(expected, 1e-3))
        #expect(gradients.count == model.parameterNames.count)
    }

    @Test("blind noise draws one std per image, within its range")
    func blindNoise() throws {
        var rng = SplitMix64(seed: 4)
        var stds: [Double] = []
        for _ in 0..<20 {
            var image = Tensor(repeating: 0.5, shape: [1, 32, 32, 1])
            NoiseModel.blindGaussian(minStd: 0.05, maxStd: 0.2).apply(to: &image, using: &rng)
            let mean = image.scalars.reduce(0) { $0 + Double($1) } / 1024
            stds.append((image.scalars.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 1024).squareRoot())
        }
        #expect(stds.allSatisfy { $0 > 0.04 && $0 < 0.23 })
        #expect((stds.max() ?? 0) - (stds.min() ?? 0) > 0.05)
        #expect(throws: DAEError.self) { try NoiseModel.blindGaussian(minStd: 0.3, maxStd: 0.1).validate() }
    }

    @Test("a residual checkpoint loads with its architecture; old configurations load as autoencoders")
    func checkpoints() throws {
        try withTemporaryDirectory { directory in
            let model = try Photos.residualModel()
            let url = directory.appendingPathComponent("photo.safetensors")
            try model.save(to: url)
            let restored = try DenoisingAutoencoder(contentsOf: url)
            #expect(restored.configuration == model.configuration)
            #expect(restored.parameters == model.parameters)
            let legacy = #"{"inputShape":[28,28,1],"layerFilters":[32,64],"kernelSize":3,"latentDim":16,"stride":2,"#
                + #""optimizer":{"learningRate":0.001,"beta1":0.9,"beta2":0.999,"epsilon":1e-07}}"#
            let decoded = try JSONDecoder().decode(DenoisingAutoencoder.Configuration.self, from: Data(legacy.utf8))
            #expect(decoded.architecture == .autoencoder)
        }
    }
}
