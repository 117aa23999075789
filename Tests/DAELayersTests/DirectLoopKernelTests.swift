@testable import DAELayers
import DAETestSupport
import Testing

/// Both implementations of the direct loops — the portable Swift ones and,
/// on a CPU with AVX2 and FMA, the C ones — against the naive loops, pass by
/// pass. (The layer tests in `ConvolutionTests` run whichever this machine
/// picks; here each runs, so the one a machine does not pick is checked too.)
@Suite("Direct convolution loops, every implementation, against naive loops")
struct DirectLoopKernelTests {
    /// The direct cases of the layer tests (one input channel), the
    /// tutorial's two direct layers at full size, and two and three input
    /// channels: the loops are written for any count.
    static let cases: [ConvolutionTests.Case] = ConvolutionTests.directCases + [
        .init(h: 28, w: 28, inC: 1, outC: 32, k: 3, s: 2, padding: .same, batch: 2),   // encoder.conv0
        .init(h: 28, w: 28, inC: 1, outC: 32, k: 3, s: 1, padding: .same, batch: 2),   // decoder.output's adjoint
        .init(h: 9, w: 11, inC: 2, outC: 16, k: 3, s: 1, padding: .same, batch: 2),
        .init(h: 8, w: 7, inC: 3, outC: 13, k: 5, s: 2, padding: .same, batch: 2),
        .init(h: 7, w: 10, inC: 3, outC: 35, k: 3, s: 1, padding: .valid, batch: 1),
    ]

    /// Every implementation this CPU runs: `.portable`, and `.avx2` when available.
    static let arguments: [(ConvolutionTests.Case, DirectLoopKernels)] =
        cases.flatMap { c in DirectLoopKernels.available.map { (c, $0) } }

    @Test("this CPU picks AVX2 exactly when it has AVX2 and FMA")
    func selection() {
        #expect(DirectLoopKernels.available.contains(.portable))
        #expect(DirectLoopKernels.best == (DirectLoopKernels.isAVX2Available ? .avx2 : .portable))
        #expect(ConvolutionGeometry.directLoopsUseAVX2 == DirectLoopKernels.isAVX2Available)
        #if !arch(x86_64)
        #expect(!DirectLoopKernels.isAVX2Available)
        #endif
    }

    @Test("forward, weight gradient and input gradient match the naive loops", arguments: arguments)
    func passes(_ c: ConvolutionTests.Case, kernels: DirectLoopKernels) throws {
        let g = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                        kernelHeight: c.k, kernelWidth: c.k, stride: c.s, padding: c.padding)
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 11, range: -1...1)
        let kernel = randomTensor(shape: [c.k, c.k, c.inC, c.outC], seed: 12, range: -0.5...0.5)
        let bias = randomTensor(shape: [c.outC], seed: 13, range: -0.5...0.5)
        let dy = randomTensor(shape: [c.batch, g.outputHeight, g.outputWidth, c.outC], seed: 14, range: -1...1)
        var padded = [Float](repeating: .nan, count: g.paddedInputCount)   // scratch: must be overwritten, never read stale

        // Forward, with bias: y = bias + conv(x).
        var y = Tensor(zeros: dy.shape)
        x.withUnsafeBufferPointer { xp in kernel.withUnsafeBufferPointer { kp in bias.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in padded.withUnsafeMutableBufferPointer { pp in
                g.directForward(xp.baseAddress!, weights: kp.baseAddress!, outputChannels: c.outC, into: yp.baseAddress!,
                                batch: c.batch, padded: pp.baseAddress!, bias: bp.baseAddress!, kernels: kernels)
            } }
        } } }
        expectApproximatelyEqual(y, try NaiveConvolution.conv2D(x, kernel: kernel, bias: bias, stride: c.s, padding: c.padding),
                                 relativeTolerance: 1e-5, "\(kernels) forward")

        // Weight gradient, added to what is there: start from W̄ = 1 and expect 1 + naive.
        var dw = Tensor(shape: kernel.shape, scalars: [Float](repeating: 1, count: kernel.count))
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dyp in
            dw.withUnsafeMutableBufferPointer { dwp in padded.withUnsafeMutableBufferPointer { pp in
                g.directWeightGradient(input: xp.baseAddress!, outputGradient: dyp.baseAddress!, outputChannels: c.outC,
                                       into: dwp.baseAddress!, batch: c.batch, padded: pp.baseAddress!, kernels: kernels)
            } }
        } }
        let naiveDW = try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: (c.k, c.k),
                                                                stride: c.s, padding: c.padding)
        expectApproximatelyEqual(dw, Tensor(shape: naiveDW.shape, scalars: naiveDW.scalars.map { $0 + 1 }),
                                 relativeTolerance: 1e-5, "\(kernels) weight gradient")

        // Input gradient (stride 1 only), with one bias value per input channel.
        guard c.s == 1 else { return }
        let inputBias = randomTensor(shape: [c.inC], seed: 15, range: -0.5...0.5)
        var dx = Tensor(shape: x.shape, scalars: [Float](repeating: .nan, count: x.count))   // overwritten, never read
        dy.withUnsafeBufferPointer { dyp in kernel.withUnsafeBufferPointer { kp in inputBias.withUnsafeBufferPointer { bp in
            dx.withUnsafeMutableBufferPointer { dxp in
                g.directInputGradient(of: dyp.baseAddress!, weights: kp.baseAddress!, outputChannels: c.outC,
                                      into: dxp.baseAddress!, batch: c.batch, bias: bp.baseAddress!, kernels: kernels)
            }
        } } }
        let naiveDX = try NaiveConvolution.conv2DInputGradient(dy, kernel: kernel, inputShape: x.shape,
                                                               stride: c.s, padding: c.padding)
        let expected = naiveDX.scalars.enumerated().map { $1 + inputBias.scalars[$0 % c.inC] }
        expectApproximatelyEqual(dx, Tensor(shape: x.shape, scalars: expected), relativeTolerance: 1e-5,
                                 "\(kernels) input gradient")
    }
}
