@testable import DAELayers
import DAETestSupport
import Testing

/// Layers of any size (`Layer.resized(toInput:)`, `Sequential.resized(toInput:)`):
/// a layer resized to another input gives the bits of the same layer built
/// for that input with the same weights, and layers whose weights fix their
/// input refuse another shape with a message.
@Suite("Layers resized to another input, as Caffe's Reshape")
struct ResizeTests {
    /// A 3-layer fully convolutional stack for `[h, w, 4]`: unshuffle, a 3×3 convolution of 48, shuffle back.
    static func fullyConvolutional(height: Int, width: Int) throws -> Sequential {
        var rng = SplitMix64(seed: 7)
        let down = try SpaceToDepth(name: "down", inputShape: [height, width, 4], block: 2)
        let conv = try Conv2D(name: "conv", inputShape: down.outputShape, filters: 48, kernelSize: 3,
                              activation: .relu, using: &rng)
        let out = try Conv2D(name: "out", inputShape: conv.outputShape, filters: 16, kernelSize: 3, using: &rng)
        let up = try DepthToSpace(name: "up", inputShape: out.outputShape, block: 2)
        return try Sequential([down, conv, out, up])
    }

    @Test("A resized convolution equals one built for that input, with or without Winograd",
          arguments: [[9, 13, 48], [1, 7, 48], [32, 5, 48], [12, 12, 48]])
    func convolution(shape: [Int]) throws {
        var rng = SplitMix64(seed: 3)
        let small = try Conv2D(name: "c", inputShape: [6, 6, 48], filters: 47, kernelSize: 3, activation: .relu, using: &rng)
        let built = try Conv2D(name: "c", inputShape: shape, kernel: small.kernel, bias: small.bias, stride: 1,
                               padding: .same, activation: .relu)
        let x = randomTensor(shape: [2] + shape, seed: 11, range: -1...1)
        let resized = try #require(try small.resized(toInput: shape) as? Conv2D)
        #expect(resized.inputShape == shape && resized.outputShape == [shape[0], shape[1], 47])
        #expect(try withOneBLASThread { try resized(x).scalars == built(x).scalars })
        // Winograd: the transformed kernel carries over (the bits of a fresh transform) with the new geometry.
        // (The outputs are compared within rounding: tests running beside this one may switch the default
        // Winograd GEMM kernels, `Conv2D.winogradKernels`, between the two layers' creation.)
        let winograd = try #require(try small.withWinograd().resized(toInput: shape) as? Conv2D)
        let fresh = built.withWinograd()
        #expect(winograd.usesWinograd && winograd.winograd?.geometry == fresh.winograd?.geometry)
        #expect(winograd.winograd?.transformedKernel == fresh.winograd?.transformedKernel)
        let (a, b) = (try winograd(x).scalars, try built(x).scalars)
        let largest = b.map(abs).max() ?? 0
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, largest) })
    }

    @Test("A strided convolution and a transposed one resize too")
    func stridedAndTransposed() throws {
        var rng = SplitMix64(seed: 5)
        let conv = try Conv2D(name: "c", inputShape: [8, 8, 3], filters: 6, kernelSize: 5, stride: 2, using: &rng)
        let grown = try #require(try conv.resized(toInput: [11, 7, 3]) as? Conv2D)
        #expect(grown.outputShape == [6, 4, 6])
        let x = randomTensor(shape: [1, 11, 7, 3], seed: 2, range: -1...1)
        let fresh = try Conv2D(name: "c", inputShape: [11, 7, 3], kernel: conv.kernel, bias: conv.bias, stride: 2,
                               padding: .same, activation: .identity)
        #expect(try withOneBLASThread { try grown(x).scalars == fresh(x).scalars })

        let transposed = try Conv2DTranspose(name: "t", inputShape: [4, 4, 6], filters: 3, kernelSize: 3, stride: 2,
                                             activation: .sigmoid, using: &rng)
        let wide = try #require(try transposed.resized(toInput: [3, 9, 6]) as? Conv2DTranspose)
        #expect(wide.outputShape == [6, 18, 3])
        let z = randomTensor(shape: [2, 3, 9, 6], seed: 4, range: -1...1)
        let freshT = try Conv2DTranspose(name: "t", inputShape: [3, 9, 6], kernel: transposed.kernel, bias: transposed.bias,
                                         stride: 2, padding: .same, activation: .sigmoid)
        #expect(try withOneBLASThread { try wide(z).scalars == freshT(z).scalars })
    }

    @Test("A fully convolutional network runs resized on any even size, bit for bit a network built for it")
    func network() throws {
        let trained = try Self.fullyConvolutional(height: 8, width: 8)
        for (h, w) in [(8, 8), (14, 22), (2, 30)] {
            let resized = try trained.resized(toInput: [h, w, 4])
            #expect(resized.inputShape == [h, w, 4] && resized.outputShape == [h, w, 4])
            #expect(resized.parameterCount == trained.parameterCount)
            let built = try Self.fullyConvolutional(height: h, width: w)   // the same seed: the same weights
            let x = randomTensor(shape: [1, h, w, 4], seed: UInt64(h * 100 + w))
            #expect(try enginePredict(network: resized, input: x).scalars == enginePredict(network: built, input: x).scalars)
        }
        // An odd size does not fold into 2×2 blocks: the pixel unshuffle says so.
        #expect(throws: DAEError.self) { try trained.resized(toInput: [9, 8, 4]) }
    }

    @Test("Dense and fixed reshapes take their own input only; a flatten takes any")
    func fixedInputs() throws {
        var rng = SplitMix64(seed: 9)
        let dense = try Dense(name: "latent", inputFeatures: 12, units: 4, using: &rng)
        #expect(try dense.resized(toInput: [12]).inputShape == [12])
        do {
            _ = try dense.resized(toInput: [13])
            Issue.record("a dense layer of 12 features took 13")
        } catch let DAEError.invalidConfiguration(reason) {
            #expect(reason.contains("latent") && reason.contains("[12]") && reason.contains("[13]"))
        }
        let reshape = try Reshape(name: "r", inputShape: [12], outputShape: [2, 2, 3])
        #expect(throws: DAEError.self) { try reshape.resized(toInput: [24]) }
        let flatten = try Reshape.flatten(name: "f", inputShape: [2, 2, 3])
        #expect(try flatten.resized(toInput: [3, 5, 2]).outputShape == [30])
        // A network with a dense layer: its own shape only.
        let conv = try Conv2D(name: "c", inputShape: [4, 4, 1], filters: 2, kernelSize: 3, stride: 2, using: &rng)
        let flat = try Reshape.flatten(name: "flat", inputShape: conv.outputShape)
        let head = try Dense(name: "head", inputFeatures: flat.outputShape[0], units: 3, using: &rng)
        let network = try Sequential([conv, flat, head])
        #expect(try network.resized(toInput: [4, 4, 1]).inputShape == [4, 4, 1])
        #expect(throws: DAEError.self) { try network.resized(toInput: [6, 6, 1]) }
    }
}
