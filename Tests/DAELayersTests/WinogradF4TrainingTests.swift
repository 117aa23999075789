@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Winograd F(4×4, 3×3) in training (``Conv2D/withWinogradF4(_:gradients:)``):
/// the forward pass and the input gradient as F(4×4) (the input gradient the
/// convolution of ∂L/∂y with the kernel rotated 180° and transposed), the
/// weight gradient in F(2×2)'s Winograd domain; against the naive loops and
/// float64 on the F(2×2) tests' shapes, with finite differences on a network
/// and the same bits on every run.
@Suite("Winograd F(4×4, 3×3) gradients (training)")
struct WinogradF4TrainingTests {
    typealias Case = WinogradTests.Case

    /// A layer of `c` with Glorot-sized random weights and its F(4×4) training twin.
    static func layers(_ c: Case, activation: Activation, seed: UInt64) throws -> (gemm: Conv2D, f4: Conv2D) {
        let bound = Float((6.0 / Double(9 * (c.inC + c.outC))).squareRoot())
        let kernel = randomTensor(shape: [3, 3, c.inC, c.outC], seed: seed, range: -bound...bound)
        let bias = randomTensor(shape: [c.outC], seed: seed + 1, range: -0.1...0.1)
        let gemm = try Conv2D(name: "c", inputShape: [c.h, c.w, c.inC], kernel: kernel, bias: bias, stride: 1,
                              padding: c.padding, activation: activation)
        return (gemm, gemm.withWinogradF4(gradients: true))
    }

    @Test("forward, input and weight gradients match im2col + GEMM and float64 on odd shapes", arguments: WinogradTrainingTests.cases)
    func layerGradients(_ c: Case) throws {
        let (gemm, f4) = try Self.layers(c, activation: .identity, seed: 201)
        #expect(f4.usesWinogradF4 && f4.usesWinogradF4Gradients && f4.usesWinogradWeightGradient)
        #expect(f4.usesWinogradInputGradient == (c.padding == .same), "a valid layer's input gradient stays im2col + GEMM")
        let g = try WinogradTrainingTests.geometry(c)
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 204, range: -1...1)
        let dy = randomTensor(shape: [c.batch, g.outputHeight, g.outputWidth, c.outC], seed: 205, range: -1...1)
        expectApproximatelyEqual(try f4(x), try gemm(x), relativeTolerance: 2e-5, "\(c) forward")
        var gemmGradients: [Tensor] = [], f4Gradients: [Tensor] = []
        let gemmDX = try gemm.backward(input: x, outputGradient: dy, parameterGradients: &gemmGradients)
        let f4DX = try f4.backward(input: x, outputGradient: dy, parameterGradients: &f4Gradients)
        expectApproximatelyEqual(f4DX, gemmDX, relativeTolerance: 2e-5, "\(c) input gradient")
        for (a, b) in zip(f4Gradients, gemmGradients) { expectApproximatelyEqual(a, b, relativeTolerance: 2e-5, "\(c) parameter gradient") }
        // Against float64 (identity activation: ∂L/∂y reaches the convolution as it is).
        let exactDX = WinogradTrainingTests.referenceInputGradient(dy, kernel: gemm.kernel, geometry: g, batch: c.batch)
        let error = relativeError(f4DX.scalars.map(Double.init), exactDX)
        #expect(error < 1e-5, "\(c): input gradient's relative error \(error) against float64")
        let naive = try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: (3, 3), stride: 1, padding: c.padding)
        expectApproximatelyEqual(f4Gradients[0], naive, relativeTolerance: 1e-5, "\(c) weight gradient against the naive loops")
    }

    @Test("an Adam step (new weights) transforms the kernels again; switching off restores im2col + GEMM, and F(2×2) replaces F(4×4)")
    func switches() throws {
        let c = Case(h: 9, w: 10, inC: 48, outC: 24, batch: 2)
        var (gemm, f4) = try Self.layers(c, activation: .relu, seed: 211)
        let x = randomTensor(shape: [2, 9, 10, 48], seed: 213, range: -1...1)
        f4.updateParameters { index, tensor in if index == 0 { tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * 0.5 }) } }
        gemm.updateParameters { index, tensor in if index == 0 { tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * 0.5 }) } }
        #expect(f4.usesWinogradF4Gradients, "an update keeps the choice")
        expectApproximatelyEqual(try f4(x), try gemm(x), relativeTolerance: 2e-5, "forward after the update")
        let off = f4.withWinogradF4(false)
        #expect(!off.usesWinograd && !off.usesWinogradInputGradient && !off.usesWinogradWeightGradient)
        #expect(try off(x) == (try gemm(x)), "im2col + GEMM again, bit for bit")
        let inference = f4.withWinogradF4(gradients: false)
        #expect(inference.usesWinogradF4 && !inference.usesWinogradF4Gradients && !inference.usesWinogradInputGradient)
        let f2 = f4.withWinograd()
        #expect(!f2.usesWinogradF4 && f2.usesWinogradInputGradient && f2.usesWinogradWeightGradient)
        let resized = try #require(try f4.resized(toInput: [13, 7, 48]) as? Conv2D)
        #expect(resized.usesWinogradF4Gradients && resized.usesWinogradInputGradient)
    }

    /// Two same and one valid stride-1 3×3 layers of 12 channels after a 3-channel one.
    static func network() throws -> Sequential {
        try WinogradTrainingTests.network().withWinograd(false).withWinogradF4(gradients: true)
    }

    @Test("finite differences agree with the F(4×4) gradients of a network (1 and 2 workers)", arguments: [1, 2])
    func gradientCheck(workers: Int) throws {
        let network = try Self.network()
        #expect(network.layers.compactMap { ($0 as? Conv2D)?.usesWinogradF4Gradients }.filter { $0 }.count >= 3)
        let x = randomTensor(shape: [3, 7, 6, 3], seed: 221)
        let target = randomTensor(shape: [3, 5, 4, 3], seed: 222, range: -0.2...0.2)
        let checker = GradientChecker(step: 1e-3, maxElementsPerTensor: 40, maxSkippedFraction: 0.25)
        checker.expectPasses(try checker.check(network: network, input: x, target: target, workers: workers), "F(4×4) network, \(workers) workers")
    }

    @Test("the engine's F(4×4) gradients are the same bits on every run, and close to im2col + GEMM's")
    func deterministic() throws {
        var rng = SplitMix64(seed: 231)
        let network = try Sequential([
            Conv2D(name: "a", inputShape: [14, 13, 4], filters: 48, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "b", inputShape: [14, 13, 48], filters: 48, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "c", inputShape: [14, 13, 48], filters: 3, kernelSize: 3, using: &rng),
        ]).withWinogradF4(gradients: true)
        let input = randomTensor(shape: [9, 14, 13, 4], seed: 232), target = randomTensor(shape: [9, 14, 13, 3], seed: 233)
        for workers in [1, 2] {
            let first = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
            let second = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
            #expect(first.loss.bitPattern == second.loss.bitPattern, "\(workers) workers: loss differs between runs")
            for name in network.parameterNames {
                let a = try #require(first.gradients[name]), b = try #require(second.gradients[name])
                #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(workers) workers: \(name) differs between runs")
            }
        }
        let gemm = try engineLossAndGradients(network: network.withWinogradF4(false), input: input, target: target, workers: 2)
        let fast = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        for name in network.parameterNames {
            expectApproximatelyEqual(try #require(fast.gradients[name]), try #require(gemm.gradients[name]), relativeTolerance: 1e-4, name)
        }
    }
}
