import DAEKit
import Foundation
import Testing

/// What a Swift developer embedding DAEKit meets first: error messages,
/// element access and training from `async` code.
@Suite struct EmbedderAPITests {
    // MARK: Errors

    @Test func localizedDescriptionIsTheMessageAndNamesNoInternalModule() throws {
        let model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
        let image = Tensor(zeros: [28, 28, 1]) // one image, without its batch dimension
        do {
            _ = try model.denoise(image)
            Issue.record("a rank-3 input was accepted")
        } catch {
            let text = error.localizedDescription
            #expect(text == String(describing: error))
            #expect(text.contains("expected a rank-4 shape [1, 28, 28, 1], got rank 3 [28, 28, 1]"), "\(text)")
            #expect(text.contains("batch [n, h, w, c]"))
            #expect(!text.contains("DAELayers") && !text.contains("operation could not be completed"))
        }
    }

    @Test func badPixelIsNamedByImageRowColumnAndChannel() throws {
        let model = try DenoisingAutoencoder(configuration: .init(inputShape: [8, 8, 3], layerFilters: [4], latentDim: 2), seed: 1)
        var batch = Tensor(zeros: [2, 8, 8, 3])
        batch[1, 5, 6, 2] = 1.5
        #expect {
            _ = try model.denoise(batch)
        } throws: { error in
            "\(error)".contains("image 1, row 5, column 6, channel 2 holds 1.5")
        }
        batch[1, 5, 6, 2] = .nan
        #expect {
            _ = try model.encode(batch)  // the deprecated forwarder, still part of the public contract
        } throws: { error in
            "\(error)".contains("image 1, row 5, column 6, channel 2 holds nan (NaN or infinity)")
        }
    }

    @Test(arguments: [
        ("text", Data("hello, this is not a model\n".utf8), "starts with the text \"hello, t\""),
        ("gzip", Data([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4]), "gzip-compressed"),
        ("HDF5", Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 64)), "HDF5"),
        ("zip", Data(Array("PK\u{3}\u{4}".utf8) + [UInt8](repeating: 0, count: 64)), "zip archive"),
    ])
    func filesThatAreNotSafetensorsSaySo(kind: String, bytes: Data, detail: String) throws {
        try withTemporaryDirectory { directory in
            let url = directory.appendingPathComponent("model.\(kind)")
            try bytes.write(to: url)
            do {
                _ = try DenoisingAutoencoder(contentsOf: url)
                Issue.record("a \(kind) file loaded as a model")
            } catch {
                let text = error.localizedDescription
                #expect(text.contains("not a safetensors model file"), "\(text)")
                #expect(text.contains(detail), "\(text)")
                #expect(!text.contains(/header length \d/), "\(text)") // not eight of its bytes read as a length
            }
        }
    }

    // MARK: Tensor element access

    @Test func tensorElementsAreReadAndWrittenWithoutPointers() {
        var batch = Tensor(zeros: [2, 3, 4, 2])
        batch[1, 2, 3, 1] = 0.75
        #expect(batch[1, 2, 3, 1] == 0.75)
        #expect(batch.scalars.last == 0.75) // the last element in NHWC order
        batch.scalars[0] = 0.25
        #expect(batch[0, 0, 0, 0] == 0.25)
        batch.scalars = batch.scalars.map { 1 - $0 }
        #expect(batch[0, 0, 0, 0] == 0.75 && batch[0, 1, 0, 0] == 1)
        #expect(batch.shape == [2, 3, 4, 2])
    }

    // MARK: Async training

    @Test func asyncFitMatchesTheSynchronousOne() async throws {
        let images = try SyntheticImages.rectangles(count: 24, seed: 3)
        let options = TrainingOptions(epochs: 2, batchSize: 8, seed: 4)
        var synchronous = try DenoisingAutoencoder(configuration: .init(), seed: 5)
        synchronous.workers = 1
        var asynchronous = synchronous
        try Self.fitSynchronously(&synchronous, images, options)
        let history = try await asynchronous.fit(images, options: options)
        #expect(history.epochs.count == 2)
        #expect(asynchronous.parameters == synchronous.parameters)
        #expect(asynchronous.epochsCompleted == 2)
    }

    /// From synchronous code `fit` is the blocking one; inside `async` code the async overload is chosen.
    static func fitSynchronously(_ model: inout DenoisingAutoencoder, _ images: some ImageSource, _ options: TrainingOptions) throws {
        try model.fit(images, options: options)
    }

    @Test func cancellingTheTaskStopsFitAtTheLastFinishedStep() async throws {
        let images = try SyntheticImages.rectangles(count: 64, seed: 3)
        let start = try DenoisingAutoencoder(configuration: .init(), seed: 5)
        let (steps, stepSeen) = { () -> (AsyncStream<Int>, AsyncStream<Int>.Continuation) in
            var continuation: AsyncStream<Int>.Continuation?
            let stream = AsyncStream<Int> { continuation = $0 }
            return (stream, continuation!)
        }()

        let training = Task { () -> (DenoisingAutoencoder, (any Error)?) in
            var model = start
            do {
                try await model.fit(images, options: TrainingOptions(epochs: 10_000, batchSize: 8, seed: 1)) { event in
                    if case .batch = event { stepSeen.yield(1) }
                }
                return (model, nil)
            } catch {
                return (model, error)
            }
        }
        for await _ in steps { break } // training has taken at least one step
        training.cancel()
        let (model, error) = await training.value

        #expect(error as? DAEError == .cancelled("training; the model keeps its last finished step"))
        // Whole epochs only in the history; the weights hold every finished step.
        #expect(model.epochsCompleted < 10_000)
        #expect(model.history.epochs.count == model.epochsCompleted)
        #expect(model.parameters != start.parameters)
        #expect(model.parameters.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        // The cancelled model is usable as it is.
        let denoised = try model.denoise(images.allImagesTensor().slice(0..<2))
        #expect(denoised.shape == [2, 28, 28, 1])
    }

    @Test func aTaskCancelledBeforehandDoesNotTrainAtAll() async throws {
        let images = try SyntheticImages.rectangles(count: 8, seed: 3)
        let start = try DenoisingAutoencoder(configuration: .init(), seed: 5)
        let training = Task { () -> (DenoisingAutoencoder, Bool) in
            var model = start
            withUnsafeCurrentTask { $0?.cancel() }
            do {
                try await model.fit(images, options: TrainingOptions(epochs: 1, batchSize: 8))
                return (model, false)
            } catch DAEError.cancelled {
                return (model, true)
            } catch {
                return (model, false)
            }
        }
        let (model, cancelled) = await training.value
        #expect(cancelled)
        #expect(model.parameters == start.parameters)
        #expect(model.epochsCompleted == 0)
    }
}
