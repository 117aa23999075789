@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// The inference-only Winograd F(4×4, 3×3) (`WinogradF4Convolution.swift`)
/// against a float64 convolution, every GEMM and transform implementation
/// this CPU runs against the others bit for bit, and its rounding's reach
/// (3 pixels) in crops.
@Suite("Winograd F(4×4, 3×3) stride-1 3×3 convolutions for inference")
struct WinogradF4Tests {
    typealias Case = WinogradTests.Case

    /// Odd sizes (1, 2, 3, 5, 7, 13, 31; none but one a multiple of 4),
    /// channels 1, 3, 4, 17 and 48 in and out (every partial last vector of
    /// 8 and 16 lanes), batch 1 to 5, `same` padding (and one `valid`).
    static let cases: [Case] = [
        Case(h: 1, w: 1, inC: 1, outC: 1, batch: 1),
        Case(h: 2, w: 3, inC: 3, outC: 4, batch: 2),
        Case(h: 3, w: 7, inC: 4, outC: 17, batch: 3),
        Case(h: 5, w: 2, inC: 17, outC: 3, batch: 1),
        Case(h: 7, w: 13, inC: 48, outC: 48, batch: 2),
        Case(h: 13, w: 5, inC: 17, outC: 48, batch: 5),
        Case(h: 31, w: 7, inC: 48, outC: 1, batch: 1),
        Case(h: 8, w: 31, inC: 3, outC: 17, batch: 2),
        Case(h: 11, w: 9, inC: 48, outC: 17, batch: 1, padding: .valid),
    ]

    /// The F(4×4) forward pass of `x` (no activation unless `relu`), output and workspace guarded by NaN.
    static func f4(_ x: Tensor, kernel: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry,
                   blockTiles: Int = WinogradF4Convolution.defaultBlockTiles, threads: Int = 1, relu: Bool = false,
                   kernels: WinogradKernels = .best, transforms: WinogradTransforms = .best) -> Tensor {
        let batch = x.shape[0], f = kernel.shape[3]
        var conv = kernel.withUnsafeBufferPointer { k in
            WinogradF4Convolution(geometry: g, weights: k.baseAddress!, outputChannels: f, blockTiles: blockTiles)
        }
        conv.threads = threads
        var y = Tensor(shape: [batch, g.outputHeight, g.outputWidth, f],
                       scalars: [Float](repeating: .nan, count: batch * g.outputPixels * f))
        var workspace = [Float](repeating: .nan, count: conv.workspaceCount(batch: batch))
        let biasScalars = bias?.scalars
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                workspace.withUnsafeMutableBufferPointer { wp in
                    (biasScalars ?? []).withUnsafeBufferPointer { bp in
                        conv.forward(xp.baseAddress!, into: yp.baseAddress!, batch: batch, workspace: wp.baseAddress!,
                                     bias: biasScalars == nil ? nil : bp.baseAddress!, relu: relu,
                                     kernels: kernels, transforms: transforms)
                    }
                }
            }
        }
        return y
    }

    /// A case's geometry, input in [−1, 1], kernel and bias in [−½, ½], drawn from `seed`, `seed + 1`, `seed + 2`.
    static func inputs(_ c: Case, seed: UInt64) throws -> (ConvolutionGeometry, Tensor, Tensor, Tensor) {
        let g = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: c.padding)
        return (g, randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: seed, range: -1...1),
                randomTensor(shape: [3, 3, c.inC, c.outC], seed: seed + 1, range: -0.5...0.5),
                randomTensor(shape: [c.outC], seed: seed + 2, range: -0.5...0.5))
    }

    /// Every (GEMMs, transforms) pair this CPU runs.
    static let paths: [(WinogradKernels, WinogradTransforms)] =
        WinogradKernels.available.flatMap { k in WinogradTransforms.available.map { (k, $0) } }

    /// Tolerance against float64: the largest error measured on these cases and
    /// in the error table is ~2·10⁻⁶ of the largest output (Docs/Benchmarks.md);
    /// 1·10⁻⁵ leaves room and stays below one 16-bit level (1.5·10⁻⁵).
    static let tolerance = 1e-5

    @Test("forward matches float64 with and without bias, ReLU as max(0, y), every GEMM and transform this CPU runs",
          arguments: cases)
    func forward(_ c: Case) throws {
        let (g, x, kernel, bias) = try Self.inputs(c, seed: 121)
        let exact = WinogradTests.reference(x, kernel: kernel, bias: bias, geometry: g)
        let exactUnbiased = WinogradTests.reference(x, kernel: kernel, bias: Tensor(zeros: [c.outC]), geometry: g)
        for (kernels, transforms) in Self.paths {
            let y = Self.f4(x, kernel: kernel, bias: bias, geometry: g, kernels: kernels, transforms: transforms)
            let error = relativeError(y.scalars.map(Double.init), exact)
            #expect(error < Self.tolerance, "\(kernels)/\(transforms): relative error \(error) against float64")
            let unbiased = Self.f4(x, kernel: kernel, bias: nil, geometry: g, kernels: kernels, transforms: transforms)
            let unbiasedError = relativeError(unbiased.scalars.map(Double.init), exactUnbiased)
            #expect(unbiasedError < Self.tolerance, "\(kernels)/\(transforms) without bias: \(unbiasedError)")
            let relu = Self.f4(x, kernel: kernel, bias: bias, geometry: g, relu: true, kernels: kernels, transforms: transforms)
            #expect(relu.scalars == y.scalars.map { max($0, 0) }, "\(kernels)/\(transforms): ReLU in the output transform")
        }
    }

    /// The register-blocked GEMMs (AVX2, AVX-512) and the transforms
    /// (portable C, AVX2, AVX-512) give the same bits in every combination and
    /// block size; OpenBLAS's sums may differ in the last bits.
    @Test("every GEMM, transform and block size this CPU runs gives the same bits", arguments: cases)
    func implementationsAgree(_ c: Case) throws {
        let (g, x, kernel, bias) = try Self.inputs(c, seed: 131)
        let reference = Self.f4(x, kernel: kernel, bias: bias, geometry: g, relu: true, kernels: .blas, transforms: .swift)
        let registerKernels = WinogradKernels.available.filter { $0 != .blas }
        let first = registerKernels.first.map {
            Self.f4(x, kernel: kernel, bias: bias, geometry: g, relu: true, kernels: $0, transforms: .swift)
        }
        for transforms in WinogradTransforms.available {
            // The transforms alone: the same GEMMs (OpenBLAS, the same calls), so the same bits.
            let viaBLAS = Self.f4(x, kernel: kernel, bias: bias, geometry: g, relu: true, kernels: .blas, transforms: transforms)
            #expect(viaBLAS.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern), "\(transforms) transforms")
            for kernels in registerKernels {
                for block in [1, 7, 10_000] {
                    let y = Self.f4(x, kernel: kernel, bias: bias, geometry: g, blockTiles: block, relu: true,
                                    kernels: kernels, transforms: transforms)
                    #expect(y.scalars.map(\.bitPattern) == first!.scalars.map(\.bitPattern),
                            "\(kernels) GEMMs, \(transforms) transforms, blocks of \(block)")
                }
            }
        }
    }

    /// Tiled inference splits a lone tile's blocks across the workers
    /// (`Sequential.withWinogradThreads`): each thread its own scratch in
    /// the workspace (guarded by NaN), every block the bits it has on one thread.
    @Test("blocks split across 2 or 3 threads give one thread's bits, with every GEMM this CPU runs", arguments: cases)
    func threadsAgree(_ c: Case) throws {
        let (g, x, kernel, bias) = try Self.inputs(c, seed: 141)
        for kernels in WinogradKernels.available {
            let one = Self.f4(x, kernel: kernel, bias: bias, geometry: g, blockTiles: 3, relu: true, kernels: kernels)
            for threads in [2, 3] {
                let split = Self.f4(x, kernel: kernel, bias: bias, geometry: g, blockTiles: 3, threads: threads, relu: true,
                                    kernels: kernels)
                #expect(split.scalars.map(\.bitPattern) == one.scalars.map(\.bitPattern), "\(kernels) GEMMs, \(threads) threads")
            }
        }
    }

    @Test("Sequential.withWinogradThreads: F(4×4) and F(2×2) networks keep their bits, weights and kernels; a scratch per thread")
    func networkThreads() throws {
        // 41×37: 110 F(4×4) tiles an image, 220 in the batch: 4 blocks of 64, so both threads work.
        let network = try WinogradTests.network(height: 41, width: 37)
        let x = randomTensor(shape: [2, 41, 37, 3], seed: 143, range: 0...1)
        for winograd in [network.withWinogradF4(), network.withWinograd()] {
            let threaded = winograd.withWinogradThreads(2)
            let convolutions = threaded.layers.compactMap { $0 as? Conv2D }
            #expect(convolutions.allSatisfy { $0.winogradThreads == ($0.usesWinograd ? 2 : 1) })
            #expect(convolutions.contains { $0.usesWinograd })
            #expect(threaded.withWinogradThreads(1).layers.compactMap { ($0 as? Conv2D)?.winogradThreads } == convolutions.map { _ in 1 })
            for (plain, split) in zip(winograd.layers.compactMap { $0 as? Conv2D }, convolutions) where plain.usesWinograd {
                #expect(split.forwardWorkspaceCount(batch: 2) == 2 * plain.forwardWorkspaceCount(batch: 2))
            }
            let expected = try enginePredict(network: winograd, input: x)
            #expect(try enginePredict(network: threaded, input: x).scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern))
            #expect(threaded.parameterNames == winograd.parameterNames)
            // New weights keep the threads (the kernel is transformed again).
            var updated = try #require(convolutions.first { $0.usesWinograd })
            updated.updateParameters { _, tensor in tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * 0.5 }) }
            #expect(updated.winogradThreads == 2)
        }
    }

    /// A crop at an origin that is a multiple of 4, as tiled inference cuts:
    /// every pixel at least 3 pixels inside the crop's cut edges gets the
    /// whole image's bits; 1 pixel inside (enough for F(2×2)) is not enough.
    @Test("a crop at a multiple of 4 gives the whole image's bits 3 pixels inside its cut edges",
          arguments: [(4, 8), (8, 0), (0, 4), (12, 4)])
    func cropsAreExactThreeInside(_ origin: (Int, Int)) throws {
        let (h, w, cin, cout) = (30, 33, 48, 48)
        let whole = try ConvolutionGeometry(inputHeight: h, inputWidth: w, inputChannels: cin,
                                            kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [1, h, w, cin], seed: 141, range: -1...1)
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 142, range: -0.3...0.3)
        let bias = randomTensor(shape: [cout], seed: 143, range: -0.5...0.5)
        let full = Self.f4(x, kernel: kernel, bias: bias, geometry: whole)
        let (top, left) = origin
        let (ch, cw) = (h - top - 5, w - left - 6)
        var crop = [Float](repeating: 0, count: ch * cw * cin)
        for r in 0..<ch { for q in 0..<cw { for k in 0..<cin { crop[(r * cw + q) * cin + k] = x.scalars[((top + r) * w + left + q) * cin + k] } } }
        let cropGeometry = try ConvolutionGeometry(inputHeight: ch, inputWidth: cw, inputChannels: cin,
                                                   kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let part = Self.f4(Tensor(shape: [1, ch, cw, cin], scalars: crop), kernel: kernel, bias: bias, geometry: cropGeometry)
        /// Values differing from the whole image's at pixels at least `margin` inside the crop's cut
        /// edges (an edge at the image's own edge is not cut: the zero padding is the same there).
        func differing(margin: Int) -> Int {
            let rows = (top == 0 ? 0 : margin)..<(ch - margin), columns = (left == 0 ? 0 : margin)..<(cw - margin)
            var count = 0
            for r in rows {
                for q in columns {
                    for f in 0..<cout where part.scalars[(r * cw + q) * cout + f] != full.scalars[((top + r) * w + left + q) * cout + f] {
                        count += 1
                    }
                }
            }
            return count
        }
        #expect(differing(margin: WinogradF4Convolution.roundingRadius) == 0)
        #expect(differing(margin: 1) > 0, "F(4×4)'s rounding reaches past the 3×3 window")
    }

    /// The F(4×4) column of the error table in Docs/Benchmarks.md: the
    /// largest error against float64, relative to the largest output, beside
    /// F(2×2)'s on the same 32×32 image (inputs in [0, 1], Glorot-uniform kernels), printed.
    @Test("error against float64: F(4×4) below one 16-bit level", arguments: [3, 4, 17, 47, 48, 64, 96])
    func errorTable(_ cin: Int) throws {
        let cout = cin == 64 ? 64 : cin == 96 ? 96 : 48
        let g = try ConvolutionGeometry(inputHeight: 32, inputWidth: 32, inputChannels: cin,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [1, 32, 32, cin], seed: 81)
        let bound = Float((6.0 / Double(9 * (cin + cout))).squareRoot())
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 82, range: -bound...bound)
        let bias = Tensor(zeros: [cout])
        let exact = WinogradTests.reference(x, kernel: kernel, bias: bias, geometry: g)
        let f2 = relativeError(WinogradTests.winograd(x, kernel: kernel, bias: bias, geometry: g).scalars.map(Double.init), exact)
        let f4 = relativeError(Self.f4(x, kernel: kernel, bias: bias, geometry: g).scalars.map(Double.init), exact)
        print("error table: \(cin) → \(cout): F(2×2) \(String(format: "%.1e", f2)), F(4×4) \(String(format: "%.1e", f4))")
        #expect(f4 < Self.tolerance)
    }

    @Test("Conv2D.withWinogradF4: forward near im2col + GEMM's, gradients im2col + GEMM's, kernel follows updates, F(2×2) and back")
    func layerSwitch() throws {
        var rng = SplitMix64(seed: 151)
        let conv = try Conv2D(name: "c", inputShape: [9, 10, 48], filters: 40, kernelSize: 3, activation: .relu, using: &rng)
        let x = randomTensor(shape: [2, 9, 10, 48], seed: 152, range: -1...1)
        let f4 = conv.withWinogradF4()
        #expect(f4.usesWinograd && f4.usesWinogradF4 && !f4.usesWinogradInputGradient && !f4.usesWinogradWeightGradient)
        expectApproximatelyEqual(try f4(x), try conv(x), relativeTolerance: 1e-5, "F(4×4) against im2col + GEMM")
        // Gradients: im2col + GEMM's, whatever the forward pass ran as.
        let dy = randomTensor(shape: [2, 9, 10, 40], seed: 153, range: -1...1)
        var plain = conv.parameters.map { Tensor(zeros: $0.shape) }, fast = plain
        let dxPlain = try conv.backward(input: x, outputGradient: dy, parameterGradients: &plain)
        let dxFast = try f4.backward(input: x, outputGradient: dy, parameterGradients: &fast)
        expectApproximatelyEqual(dxFast, dxPlain, relativeTolerance: 1e-6, "input gradient")
        for (a, b) in zip(fast, plain) { expectApproximatelyEqual(a, b, relativeTolerance: 1e-6, "parameter gradient") }
        // The transformed kernel follows new weights.
        var updated = f4
        updated.updateParameters { _, tensor in tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * 0.5 }) }
        var halved = conv
        halved.updateParameters { _, tensor in tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * 0.5 }) }
        expectApproximatelyEqual(try updated(x), try halved(x), relativeTolerance: 1e-5, "after an update")
        // F(2×2) replaces F(4×4), and off is off.
        let f2 = f4.withWinograd()
        #expect(f2.usesWinograd && !f2.usesWinogradF4)
        #expect(!f4.withWinogradF4(false).usesWinograd)
        #expect(try Sequential([f4]).withWinograd().usesWinogradF4, "withWinograd() keeps a layer already on Winograd")
        #expect(try Sequential([conv]).withWinogradF4().usesWinogradF4)
    }
}
