import DAELayers
import DAETestSupport
import Testing

/// Bad input is a thrown ``DAEError`` that says what was wrong and where.
@Suite("Errors")
struct ErrorTests {
    /// One layer of each kind, each named so that messages can be checked for the name.
    static func layers() throws -> [any Layer] {
        var rng = SplitMix64(seed: 1)
        return [
            try Conv2D(name: "my.conv", inputShape: [6, 6, 2], filters: 3, kernelSize: 3, stride: 2, using: &rng),
            try Conv2DTranspose(name: "my.deconv", inputShape: [3, 3, 3], filters: 2, kernelSize: 3, stride: 2, using: &rng),
            try Dense(name: "my.dense", inputFeatures: 4, units: 2, using: &rng),
            try Reshape(name: "my.reshape", inputShape: [2, 3], outputShape: [6]),
        ]
    }

    /// Wrong shapes for an input of per-example shape `shape`: wrong rank, a wrong dimension, no batch axis.
    static func wrongShapes(for shape: [Int]) -> [[Int]] {
        var wrongLast = shape
        wrongLast[wrongLast.count - 1] += 1
        return [[2] + wrongLast, shape, [2] + shape + [1], [2, 1] + shape]
    }

    /// Checks that `body` throws `shapeMismatch` and that its message names `layerName`.
    static func expectShapeMismatch(naming layerName: String, sourceLocation: SourceLocation = #_sourceLocation,
                                    _ body: () throws -> Void) {
        let error = #expect(throws: DAEError.self, sourceLocation: sourceLocation) { try body() }
        guard case .shapeMismatch? = error else {
            Issue.record("expected shapeMismatch, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(error!.description.contains(layerName), "\(error!.description)", sourceLocation: sourceLocation)
    }

    @Test("a wrongly shaped input throws shapeMismatch naming the layer")
    func wrongInputShape() throws {
        for layer in try Self.layers() {
            for shape in Self.wrongShapes(for: layer.inputShape) {
                Self.expectShapeMismatch(naming: layer.name) { _ = try layer(Tensor(zeros: shape)) }
                var gradients: [Tensor] = []
                let dy = Tensor(zeros: [2] + layer.outputShape)
                Self.expectShapeMismatch(naming: layer.name) {
                    _ = try layer.backward(input: Tensor(zeros: shape), outputGradient: dy, parameterGradients: &gradients)
                }
            }
        }
    }

    @Test("a wrongly shaped output gradient or parameter gradient throws shapeMismatch naming the layer")
    func wrongGradientShape() throws {
        for layer in try Self.layers() {
            let x = Tensor(zeros: [2] + layer.inputShape)
            var gradients: [Tensor] = []
            Self.expectShapeMismatch(naming: layer.name) {
                _ = try layer.backward(input: x, outputGradient: Tensor(zeros: [3] + layer.outputShape), parameterGradients: &gradients)
            }
            guard !layer.parameters.isEmpty else { continue }
            var wrong = layer.parameters.map { Tensor(zeros: [$0.count + 1]) }
            Self.expectShapeMismatch(naming: layer.name) {
                _ = try layer.backward(input: x, outputGradient: Tensor(zeros: [2] + layer.outputShape), parameterGradients: &wrong)
            }
        }
    }

    @Test("an empty batch is refused, naming the layer")
    func emptyBatch() throws {
        for layer in try Self.layers() {
            let error = #expect(throws: DAEError.self) { _ = try layer(Tensor(zeros: [0] + layer.inputShape)) }
            #expect(error?.description.contains(layer.name) == true, "\(String(describing: error))")
        }
    }

    /// A configuration that cannot be built, the words its message must contain, and how to build it.
    struct BadConfiguration: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let words: [String]
        let build: @Sendable () throws -> Void
    }

    static let badConfigurations: [BadConfiguration] = [
        BadConfiguration(testDescription: "Conv2D with zero filters", words: ["bad.conv", "filters"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2D(name: "bad.conv", inputShape: [8, 8, 1], filters: 0, kernelSize: 3, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2D with kernel size 0", words: ["bad.conv", "kernel"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2D(name: "bad.conv", inputShape: [8, 8, 1], filters: 4, kernelSize: 0, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2D with a negative stride", words: ["bad.conv", "stride", "-1"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2D(name: "bad.conv", inputShape: [8, 8, 1], filters: 4, kernelSize: 3, stride: -1, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2D valid with a kernel larger than the input", words: ["bad.conv", "kernel", "5", "4"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2D(name: "bad.conv", inputShape: [4, 8, 1], filters: 4, kernelSize: 5, padding: .valid, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2D on a rank-2 input shape", words: ["bad.conv"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2D(name: "bad.conv", inputShape: [8, 8], filters: 4, kernelSize: 3, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2D kernel for the wrong input channels", words: ["bad.conv.kernel", "3"]) {
            _ = try Conv2D(name: "bad.conv", inputShape: [8, 8, 3], kernel: Tensor(zeros: [3, 3, 2, 4]), bias: Tensor(zeros: [4]),
                           stride: 1, padding: .same, activation: .relu)
        },
        BadConfiguration(testDescription: "Conv2D bias of the wrong size", words: ["bad.conv.bias", "[4]"]) {
            _ = try Conv2D(name: "bad.conv", inputShape: [8, 8, 2], kernel: Tensor(zeros: [3, 3, 2, 4]), bias: Tensor(zeros: [5]),
                           stride: 1, padding: .same, activation: .relu)
        },
        BadConfiguration(testDescription: "Conv2DTranspose with zero filters", words: ["bad.deconv", "filters"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2DTranspose(name: "bad.deconv", inputShape: [7, 7, 4], filters: 0, kernelSize: 3, stride: 2, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2DTranspose with a negative stride", words: ["bad.deconv", "stride", "-2"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2DTranspose(name: "bad.deconv", inputShape: [7, 7, 4], filters: 2, kernelSize: 3, stride: -2, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2DTranspose with a zero input size", words: ["bad.deconv"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Conv2DTranspose(name: "bad.deconv", inputShape: [0, 7, 4], filters: 2, kernelSize: 3, stride: 2, using: &rng)
        },
        BadConfiguration(testDescription: "Conv2DTranspose kernel for the wrong input channels", words: ["bad.deconv.kernel"]) {
            _ = try Conv2DTranspose(name: "bad.deconv", inputShape: [7, 7, 4], kernel: Tensor(zeros: [3, 3, 2, 3]),
                                    bias: Tensor(zeros: [2]), stride: 2, padding: .same, activation: .relu)
        },
        BadConfiguration(testDescription: "Dense with zero units", words: ["bad.dense", "units"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Dense(name: "bad.dense", inputFeatures: 16, units: 0, using: &rng)
        },
        BadConfiguration(testDescription: "Dense with a rank-3 kernel", words: ["bad.dense.kernel"]) {
            _ = try Dense(name: "bad.dense", kernel: Tensor(zeros: [2, 3, 4]), bias: Tensor(zeros: [4]))
        },
        BadConfiguration(testDescription: "Reshape to another element count", words: ["bad.reshape", "[7, 7, 64]", "[3000]"]) {
            _ = try Reshape(name: "bad.reshape", inputShape: [3000], outputShape: [7, 7, 64])
        },
        BadConfiguration(testDescription: "Sequential whose shapes do not chain", words: ["first", "second", "[16]", "[8]"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Sequential([try Dense(name: "first", inputFeatures: 4, units: 16, using: &rng),
                                try Dense(name: "second", inputFeatures: 8, units: 2, using: &rng)])
        },
        BadConfiguration(testDescription: "Sequential with two layers of the same name", words: ["twice"]) {
            var rng = SplitMix64(seed: 1)
            _ = try Sequential([try Dense(name: "twice", inputFeatures: 4, units: 4, using: &rng),
                                try Dense(name: "twice", inputFeatures: 4, units: 4, using: &rng)])
        },
        BadConfiguration(testDescription: "Sequential without layers", words: ["layer"]) {
            _ = try Sequential([])
        },
    ]

    @Test("an impossible configuration throws a message naming the layer and the problem", arguments: badConfigurations)
    func invalidConfiguration(_ bad: BadConfiguration) {
        let error = #expect(throws: DAEError.self) { try bad.build() }
        guard let error else { return }
        for word in bad.words {
            #expect(error.description.contains(word), "message lacks “\(word)”: \(error.description)")
        }
    }

    @Test("setting a parameter that does not exist, or with the wrong shape, throws")
    func setParameter() throws {
        var rng = SplitMix64(seed: 1)
        var network = try Sequential([try Dense(name: "d", inputFeatures: 4, units: 2, using: &rng)])
        let unknown = #expect(throws: DAEError.self) { try network.setParameter("d.weights", to: Tensor(zeros: [4, 2])) }
        #expect(unknown?.description.contains("d.weights") == true)
        let wrongShape = #expect(throws: DAEError.self) { try network.setParameter("d.kernel", to: Tensor(zeros: [2, 4])) }
        #expect(wrongShape?.description.contains("d.kernel") == true)
        #expect(network.parameters["d.kernel"]?.shape == [4, 2], "a failed set must not change the network")
    }

    @Test("loss and tensor constructors refuse mismatched shapes")
    func tensorAndLossShapes() {
        #expect(throws: DAEError.self) { try MeanSquaredError.loss(Tensor(zeros: [2, 3]), Tensor(zeros: [3, 2])) }
        #expect(throws: DAEError.self) { try MeanSquaredError.gradient(Tensor(zeros: [6]), Tensor(zeros: [5])) }
        #expect(throws: DAEError.self) { try Tensor(validatingShape: [2, 3], scalars: [1, 2, 3]) }
        #expect(throws: DAEError.self) { try Tensor(validatingShape: [-1, 3], scalars: [1, 2, 3]) }
        #expect(throws: DAEError.self) { try Tensor(zeros: [2, 3]).reshaped(to: [4, 2]) }
    }
}
