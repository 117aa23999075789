@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Winograd F(4×4, 3×3) in training (``Conv2D/withWinogradF4(_:gradients:)``):
/// the forward pass and the input gradient as F(4×4) (the input gradient the
/// convolution of ∂L/∂y with the kernel rotated 180° and transposed), the
/// weight gradient in F(2×2)'s Winograd domain; against the naive loops and
/// float64 on the F(2×2) tests' shapes. Finite differences on a network and
/// the same bits on every run: `WinogradTrainingTests`, whose network tests
/// take F(4×4) as an argument.
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
}
