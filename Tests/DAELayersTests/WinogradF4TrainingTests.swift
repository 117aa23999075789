@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Winograd F(4×4, 3×3) in training (``Conv2D/withWinogradF4(_:gradients:f4WeightGradient:)``):
/// the forward pass and the input gradient as F(4×4) (the input gradient the
/// convolution of ∂L/∂y with the kernel rotated 180° and transposed), the
/// weight gradient in F(2×2)'s Winograd domain or in F(4×4)'s own; against
/// the naive loops and float64 on the F(2×2) tests' shapes, every GEMM and
/// transform this CPU runs against the others bit for bit. Finite
/// differences on a network and the same bits on every run:
/// `WinogradTrainingTests`, whose network tests take each path as an argument.
@Suite("Winograd F(4×4, 3×3) gradients (training)")
struct WinogradF4TrainingTests {
    typealias Case = WinogradTests.Case

    /// A layer of `c` with Glorot-sized random weights and its F(4×4) training twin
    /// (with `f4WeightGradient`, the weight gradient in F(4×4)'s domain too).
    static func layers(_ c: Case, activation: Activation, seed: UInt64, f4WeightGradient: Bool = false) throws
        -> (gemm: Conv2D, f4: Conv2D) {
        let bound = Float((6.0 / Double(9 * (c.inC + c.outC))).squareRoot())
        let kernel = randomTensor(shape: [3, 3, c.inC, c.outC], seed: seed, range: -bound...bound)
        let bias = randomTensor(shape: [c.outC], seed: seed + 1, range: -0.1...0.1)
        let gemm = try Conv2D(name: "c", inputShape: [c.h, c.w, c.inC], kernel: kernel, bias: bias, stride: 1,
                              padding: c.padding, activation: activation)
        return (gemm, gemm.withWinogradF4(gradients: true, f4WeightGradient: f4WeightGradient))
    }

    @Test("forward, input and weight gradients match im2col + GEMM and float64 on odd shapes (either weight gradient)",
          arguments: WinogradTrainingTests.cases, [false, true])
    func layerGradients(_ c: Case, f4WeightGradient: Bool) throws {
        let (gemm, f4) = try Self.layers(c, activation: .identity, seed: 201, f4WeightGradient: f4WeightGradient)
        #expect(f4.usesWinogradF4 && f4.usesWinogradF4Gradients && f4.usesWinogradWeightGradient)
        #expect(f4.usesWinogradF4WeightGradient == f4WeightGradient)
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
        expectApproximatelyEqual(f4Gradients[0], naive, relativeTolerance: f4WeightGradient ? Self.weightTolerance : 1e-5,
                                 "\(c) weight gradient against the naive loops")
    }

    /// The F(4×4) weight gradient's bound against float64 (and the naive
    /// loops), relative to the largest value: measured up to 1.2·10⁻⁶ on a
    /// built-in layer's shapes, 2–3× F(2×2)'s (`weightErrorTable`, Docs/Benchmarks.md).
    static let weightTolerance = 4e-6

    @Test("F(4×4) weight gradient matches the naive loops and float64, every kernel and transform this CPU runs",
          arguments: WinogradTrainingTests.cases, WinogradKernels.available)
    func weightGradient(_ c: Case, kernels: WinogradKernels) throws {
        let g = try WinogradTrainingTests.geometry(c)
        let (x, kernel, dy) = WinogradTrainingTests.data(c, g, seed: 221)
        let naive = try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: (3, 3), stride: 1, padding: c.padding)
        let exact = WinogradTrainingTests.referenceWeightGradient(x, dy, geometry: g, outputChannels: c.outC, batch: c.batch)
        for transforms in WinogradTransforms.available {
            let dk = WinogradTrainingTests.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: 7, f4: true,
                                                          kernels: kernels, transforms: transforms)
            expectApproximatelyEqual(dk, naive, relativeTolerance: Self.weightTolerance, "\(c) \(kernels)/\(transforms) against the naive loops")
            let error = relativeError(dk.scalars.map(Double.init), exact)
            #expect(error < Self.weightTolerance, "\(c) \(kernels)/\(transforms): relative error \(error) against float64")
        }
    }

    /// The register-blocked GEMMs (AVX2, AVX-512) and the transforms
    /// (portable C, AVX2, AVX-512) give the same bits in every combination
    /// for a given block size; OpenBLAS's sums may differ in the last bits.
    @Test("the F(4×4) weight gradient: every GEMM and transform this CPU runs gives the same bits, added to the buffer",
          arguments: WinogradTrainingTests.cases)
    func weightGradientImplementationsAgree(_ c: Case) throws {
        let g = try WinogradTrainingTests.geometry(c)
        let (x, kernel, dy) = WinogradTrainingTests.data(c, g, seed: 231)
        func dk(_ kernels: WinogradKernels, _ transforms: WinogradTransforms, block: Int, base: [Float]? = nil) -> [UInt32] {
            WinogradTrainingTests.bits(WinogradTrainingTests.weightGradient(
                x, dy, kernel: kernel, geometry: g, batch: c.batch, base: base, blockTiles: block, f4: true,
                kernels: kernels, transforms: transforms).scalars)
        }
        let registerKernels = WinogradKernels.available.filter { $0 != .blas }
        for block in [1, 13, 10_000] {
            let reference = dk(.blas, .swift, block: block)
            let first = registerKernels.first.map { dk($0, .swift, block: block) }
            for transforms in WinogradTransforms.available {
                #expect(dk(.blas, transforms, block: block) == reference, "\(transforms) transforms, blocks of \(block)")
                for kernels in registerKernels {
                    #expect(dk(kernels, transforms, block: block) == first, "\(kernels)/\(transforms), blocks of \(block)")
                }
            }
        }
        // Added to what the buffer holds: base + g, bit for bit.
        let base = randomTensor(shape: kernel.shape, seed: 234, range: -2...2).scalars
        let alone = dk(.best, .best, block: 13).map(Float.init(bitPattern:))
        #expect(dk(.best, .best, block: 13, base: base) == WinogradTrainingTests.bits(zip(base, alone).map { $0 + $1 }))
    }

    @Test("the output-gradient transforms write A dY Aᵀ of each tile's 4×4 pixels (0 past the edge), and nothing past a block",
          arguments: [Case(h: 7, w: 13, inC: 5, outC: 17, batch: 2), Case(h: 4, w: 5, inC: 3, outC: 48, batch: 1),
                      Case(h: 11, w: 9, inC: 5, outC: 3, batch: 1, padding: .valid)])
    func outputGradientTransform(_ c: Case) throws {
        let g = try WinogradTrainingTests.geometry(c)
        let (_, kernel, dy) = WinogradTrainingTests.data(c, g, seed: 241)
        let conv = kernel.withUnsafeBufferPointer { WinogradF4Convolution(geometry: g, weights: $0.baseAddress!, outputChannels: c.outC) }
        let total = c.batch * conv.tilesPerImage, stride = 36 * c.outC
        // A (6 × 4) = Aᵀ's transpose, include/dae_winograd_f4.h.
        let a: [[Double]] = [[1, 0, 0, 0], [1, 1, 1, 1], [1, -1, 1, -1], [1, 0.5, 0.25, 0.125], [1, -2, 4, -8], [0, 0, 0, 1]]
        for transforms in WinogradTransforms.available {
            var dm = [Float](repeating: .nan, count: total * stride + stride)
            dy.withUnsafeBufferPointer { d in
                dm.withUnsafeMutableBufferPointer { m in
                    for start in Swift.stride(from: 0, to: total, by: 3) {
                        conv.outputGradientTransform(d.baseAddress!, tiles: start..<min(start + 3, total),
                                                     into: m.baseAddress! + start * stride, transforms: transforms)
                    }
                }
            }
            let untouched = dm[(total * stride)...].allSatisfy { $0.isNaN }
            #expect(untouched, "\(transforms) wrote past the block")
            var largest = 0.0
            for tile in 0..<total {
                let image = tile / conv.tilesPerImage, row = tile % conv.tilesPerImage / conv.tileColumns
                let column = tile % conv.tileColumns
                for f in 0..<c.outC {
                    func pixel(_ i: Int, _ j: Int) -> Double {
                        let (y, x) = (4 * row + i, 4 * column + j)
                        guard y < g.outputHeight, x < g.outputWidth else { return 0 }
                        return Double(dy.scalars[((image * g.outputHeight + y) * g.outputWidth + x) * c.outC + f])
                    }
                    for e in 0..<36 {
                        let (p, q) = (e / 6, e % 6)
                        var exact = 0.0
                        for i in 0..<4 { for j in 0..<4 { exact += a[p][i] * pixel(i, j) * a[q][j] } }
                        largest = max(largest, abs(Double(dm[tile * stride + e * c.outC + f]) - exact))
                    }
                }
            }
            #expect(largest < 1e-4, "\(transforms): largest difference \(largest) from A dY Aᵀ in float64")
        }
    }

    @Test("Gᵀ dU G is added to the kernel gradient as float64 computes it, to rounding", arguments: [1, 7, 8, 9, 48 * 48])
    func kernelGradientTransform(_ pairs: Int) {
        let du = randomTensor(shape: [36, pairs], seed: UInt64(251 + pairs), range: -1...1).scalars
        let base = randomTensor(shape: [9, pairs], seed: UInt64(252 + pairs), range: -1...1).scalars
        var dw = base
        du.withUnsafeBufferPointer { u in
            dw.withUnsafeMutableBufferPointer { WinogradF4Convolution.addKernelGradient(u.baseAddress!, into: $0.baseAddress!, count: pairs) }
        }
        let g = UnsafePointer(WinogradF4Convolution.gMatrix)
        var largest = 0.0
        for p in 0..<pairs {
            for i in 0..<3 {
                for j in 0..<3 {
                    var exact = Double(base[(3 * i + j) * pairs + p])
                    for a in 0..<6 { for b in 0..<6 { exact += g[3 * a + i] * Double(du[(6 * a + b) * pairs + p]) * g[3 * b + j] } }
                    largest = max(largest, abs(Double(dw[(3 * i + j) * pairs + p]) - exact))
                }
            }
        }
        #expect(largest < 2e-6, "largest difference \(largest)")
    }

    /// The error table of Docs/Benchmarks.md ("Winograd F(4×4, 3×3) in
    /// training"): the weight gradient's largest error against float64,
    /// relative to the largest value, for im2col + GEMM, F(2×2)'s domain
    /// and F(4×4)'s; `x` in [0, 1], Glorot-uniform kernels, `dy` in [−1, 1].
    /// Printed.
    @Test("F(4×4) weight gradient error against float64: within 4·10⁻⁶ (printed beside F(2×2)'s and the GEMM's)",
          arguments: [(5, 48, 32, 1), (48, 48, 32, 1), (48, 3, 32, 1), (96, 96, 32, 1), (48, 48, 48, 16), (48, 48, 96, 8)])
    func weightErrorTable(_ shape: (cin: Int, cout: Int, side: Int, batch: Int)) throws {
        let (cin, cout, side, batch) = shape
        let g = try ConvolutionGeometry(inputHeight: side, inputWidth: side, inputChannels: cin,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [batch, side, side, cin], seed: 261)
        let bound = Float((6.0 / Double(9 * (cin + cout))).squareRoot())
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 262, range: -bound...bound)
        let dy = randomTensor(shape: [batch, side, side, cout], seed: 263, range: -1...1)
        let exact = WinogradTrainingTests.referenceWeightGradient(x, dy, geometry: g, outputChannels: cout, batch: batch)
        let layer = try Conv2D(name: "c", inputShape: [side, side, cin], kernel: kernel, bias: Tensor(zeros: [cout]), stride: 1,
                               padding: .same, activation: .identity)
        var gradients: [Tensor] = []
        _ = try layer.backward(input: x, outputGradient: dy, parameterGradients: &gradients)
        let error = { (t: Tensor) in relativeError(t.scalars.map(Double.init), exact) }
        let f2 = WinogradTrainingTests.weightGradient(x, dy, kernel: kernel, geometry: g, batch: batch, kernels: .best, transforms: .best)
        let f4 = WinogradTrainingTests.weightGradient(x, dy, kernel: kernel, geometry: g, batch: batch, f4: true, kernels: .best, transforms: .best)
        let format = { (e: Double) in String(format: "%.1e", e) }
        print("F(4×4) weight gradient error table: \(batch)×\(side)²×\(cin) → \(cout): im2col + GEMM \(format(error(gradients[0]))), "
              + "F(2×2) \(format(error(f2))), F(4×4) \(format(error(f4)))")
        #expect(error(f4) < Self.weightTolerance)
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
        // The F(4×4) weight gradient: kept by an update and a resize; no F(2×2) pass; less scratch than im2col + GEMM.
        var full = gemm.withWinogradF4(gradients: true, f4WeightGradient: true)
        #expect(full.usesWinogradF4WeightGradient && full.usesWinogradWeightGradient && full.winograd == nil)
        full.updateParameters { index, tensor in if index == 0 { tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * 2 }) } }
        #expect(full.usesWinogradF4WeightGradient, "an update keeps the choice")
        expectApproximatelyEqual(try full(x), try gemm.withParameters([Float](gemm.kernel.scalars.map { $0 * 2 }) + gemm.bias.scalars)(x),
                                 relativeTolerance: 2e-5, "forward after the update")
        #expect(try #require(try full.resized(toInput: [13, 7, 48]) as? Conv2D).usesWinogradF4WeightGradient)
        #expect(!f4.withWinogradF4(gradients: false, f4WeightGradient: true).usesWinogradF4WeightGradient,
                "inference has no weight gradient")
        #expect(!full.withWinogradF4(gradients: true).usesWinogradF4WeightGradient, "switched back to F(2×2)'s weight gradient")
        let layer = try Conv2D(name: "l", inputShape: [48, 48, 48], kernel: randomTensor(shape: [3, 3, 48, 48], seed: 214),
                               bias: Tensor(zeros: [48]), stride: 1, padding: .same, activation: .relu)
        #expect(layer.withWinogradF4(gradients: true, f4WeightGradient: true).workspaceCount(batch: 16) < layer.workspaceCount(batch: 16) / 10)
    }
}
