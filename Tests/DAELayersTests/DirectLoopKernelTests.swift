@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Both implementations of the direct loops — the portable Swift ones and,
/// on a CPU with AVX2 and FMA, the C ones — against the naive loops, pass by
/// pass. (The layer tests in `ConvolutionTests` run whichever this machine
/// picks; here each runs, so the one a machine does not pick is checked too.)
@Suite("Direct convolution loops, every implementation, against naive loops")
struct DirectLoopKernelTests {
    /// One convolution: input `batch × h × w × inC`, `outC` filters of `kh × kw`.
    struct Case: Sendable, CustomTestStringConvertible {
        let h, w, inC, outC, kh, kw, s: Int, padding: Padding, batch: Int
        /// Whether the passes that take a bias get one (the layers pass none to some).
        let bias: Bool
        var testDescription: String {
            "\(batch)×\(h)×\(w)×\(inC) → \(outC), k\(kh)×\(kw) s\(s) \(padding)\(bias ? "" : ", no bias")"
        }
    }

    /// The direct cases of the layer tests (one input channel), the
    /// tutorial's two direct layers at full size, 2–4 input channels (direct
    /// with AVX2; the loops are written for any count), channel counts that
    /// leave every number of lanes in the last 8- and 32-wide blocks, widths
    /// below a group of four, and kernels that are not square.
    static let cases: [Case] = ConvolutionTests.directCases.enumerated().map { i, c in
        Case(h: c.h, w: c.w, inC: c.inC, outC: c.outC, kh: c.k, kw: c.k, s: c.s, padding: c.padding, batch: c.batch,
             bias: !i.isMultiple(of: 3))
    } + [
        Case(h: 28, w: 28, inC: 1, outC: 32, kh: 3, kw: 3, s: 2, padding: .same, batch: 2, bias: true),   // encoder.conv0
        Case(h: 28, w: 28, inC: 1, outC: 32, kh: 3, kw: 3, s: 1, padding: .same, batch: 2, bias: true),   // decoder.output's adjoint
        Case(h: 9, w: 11, inC: 2, outC: 16, kh: 3, kw: 3, s: 1, padding: .same, batch: 2, bias: true),
        Case(h: 8, w: 7, inC: 3, outC: 13, kh: 5, kw: 5, s: 2, padding: .same, batch: 2, bias: false),
        Case(h: 7, w: 10, inC: 3, outC: 35, kh: 3, kw: 3, s: 1, padding: .valid, batch: 1, bias: true),
        Case(h: 6, w: 9, inC: 4, outC: 29, kh: 3, kw: 3, s: 1, padding: .same, batch: 2, bias: false),
        Case(h: 5, w: 12, inC: 1, outC: 23, kh: 3, kw: 3, s: 2, padding: .same, batch: 1, bias: true),
        Case(h: 7, w: 2, inC: 1, outC: 9, kh: 3, kw: 3, s: 1, padding: .same, batch: 2, bias: true),      // 2 pixels wide
        Case(h: 4, w: 4, inC: 2, outC: 17, kh: 3, kw: 3, s: 1, padding: .same, batch: 1, bias: false),    // one group of 4
        Case(h: 7, w: 9, inC: 1, outC: 12, kh: 3, kw: 5, s: 1, padding: .same, batch: 2, bias: true),
        Case(h: 9, w: 8, inC: 2, outC: 7, kh: 5, kw: 3, s: 2, padding: .valid, batch: 2, bias: false),
    ]

    /// Every implementation this CPU runs: `.portable`, and `.avx2` when available.
    static let arguments: [(Case, DirectLoopKernels)] = cases.flatMap { c in DirectLoopKernels.available.map { (c, $0) } }

    @Test("this CPU picks AVX2 exactly when it has AVX2 and FMA")
    func selection() {
        #expect(DirectLoopKernels.available.contains(.portable))
        #expect(DirectLoopKernels.best == (DirectLoopKernels.isAVX2Available ? .avx2 : .portable))
        #expect(ConvolutionGeometry.directLoopsUseAVX2 == DirectLoopKernels.isAVX2Available)
        #if !arch(x86_64)
        #expect(!DirectLoopKernels.isAVX2Available)
        #endif
    }

    #if os(Linux) && arch(x86_64)
    @Test("the CPUID check agrees with the kernel's CPU flags")
    func selectionMatchesProcCPUInfo() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: ":").last!.split(separator: " ").map(String.init))
        #expect(DirectLoopKernels.isAVX2Available == (flags.contains("avx2") && flags.contains("fma")))
    }
    #endif

    @Test("forward, weight gradient and input gradient match the naive loops, inside their buffers",
          arguments: arguments)
    func passes(_ c: Case, kernels: DirectLoopKernels) throws {
        let g = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                        kernelHeight: c.kh, kernelWidth: c.kw, stride: c.s, padding: c.padding)
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 11, range: -1...1)
        let kernel = randomTensor(shape: [c.kh, c.kw, c.inC, c.outC], seed: 12, range: -0.5...0.5)
        let bias = randomTensor(shape: [c.outC], seed: 13, range: -0.5...0.5)
        let dy = randomTensor(shape: [c.batch, g.outputHeight, g.outputWidth, c.outC], seed: 14, range: -1...1)
        var padded = GuardedBuffer(count: g.paddedInputCount, fill: .nan)   // scratch: overwritten, never read stale

        // Forward: y = bias + conv(x), overwriting y (NaN before).
        var y = GuardedBuffer(count: dy.count, fill: .nan)
        x.withUnsafeBufferPointer { xp in kernel.withUnsafeBufferPointer { kp in bias.withUnsafeBufferPointer { bp in
            y.withPointer { yp in padded.withPointer { pp in
                g.directForward(xp.baseAddress!, weights: kp.baseAddress!, outputChannels: c.outC, into: yp,
                                batch: c.batch, padded: pp, bias: c.bias ? bp.baseAddress! : nil, kernels: kernels)
            } }
        } } }
        expectApproximatelyEqual(Tensor(shape: dy.shape, scalars: y.values),
                                 try NaiveConvolution.conv2D(x, kernel: kernel, bias: c.bias ? bias : nil,
                                                             stride: c.s, padding: c.padding),
                                 relativeTolerance: 1e-5, "\(kernels) forward")
        #expect(y.guardsIntact && padded.guardsIntact, "\(kernels) forward wrote outside its buffers")

        // Weight gradient, added to what is there: start from W̄ = 1 and expect 1 + naive.
        var dw = GuardedBuffer(count: kernel.count, fill: 1)
        x.withUnsafeBufferPointer { xp in dy.withUnsafeBufferPointer { dyp in
            dw.withPointer { dwp in padded.withPointer { pp in
                g.directWeightGradient(input: xp.baseAddress!, outputGradient: dyp.baseAddress!, outputChannels: c.outC,
                                       into: dwp, batch: c.batch, padded: pp, kernels: kernels)
            } }
        } }
        let naiveDW = try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: (c.kh, c.kw),
                                                                stride: c.s, padding: c.padding)
        expectApproximatelyEqual(Tensor(shape: kernel.shape, scalars: dw.values),
                                 Tensor(shape: naiveDW.shape, scalars: naiveDW.scalars.map { $0 + 1 }),
                                 relativeTolerance: 1e-5, "\(kernels) weight gradient")
        #expect(dw.guardsIntact && padded.guardsIntact, "\(kernels) weight gradient wrote outside its buffers")

        // Input gradient (stride 1 only), overwriting dx, with or without one bias value per input channel.
        guard c.s == 1 else { return }
        let inputBias = randomTensor(shape: [c.inC], seed: 15, range: -0.5...0.5)
        var dx = GuardedBuffer(count: x.count, fill: .nan)
        dy.withUnsafeBufferPointer { dyp in kernel.withUnsafeBufferPointer { kp in inputBias.withUnsafeBufferPointer { bp in
            dx.withPointer { dxp in
                g.directInputGradient(of: dyp.baseAddress!, weights: kp.baseAddress!, outputChannels: c.outC,
                                      into: dxp, batch: c.batch, bias: c.bias ? bp.baseAddress! : nil, kernels: kernels)
            }
        } } }
        let naiveDX = try NaiveConvolution.conv2DInputGradient(dy, kernel: kernel, inputShape: x.shape,
                                                               stride: c.s, padding: c.padding)
        let expected = naiveDX.scalars.enumerated().map { $1 + (c.bias ? inputBias.scalars[$0 % c.inC] : 0) }
        expectApproximatelyEqual(Tensor(shape: x.shape, scalars: dx.values), Tensor(shape: x.shape, scalars: expected),
                                 relativeTolerance: 1e-5, "\(kernels) input gradient")
        #expect(dx.guardsIntact, "\(kernels) input gradient wrote outside its buffer")
    }
}

/// Floats with a run of sentinel values on both sides, to catch a kernel
/// writing past either end of its buffer.
private struct GuardedBuffer {
    static let guardCount = 64
    static let sentinel: Float = -12345.5
    private var storage: [Float]
    let count: Int

    init(count: Int, fill: Float) {
        self.count = count
        storage = [Float](repeating: Self.sentinel, count: count + 2 * Self.guardCount)
        for i in 0..<count { storage[Self.guardCount + i] = fill }
    }

    /// The buffer's own values.
    var values: [Float] { Array(storage[Self.guardCount..<(Self.guardCount + count)]) }

    /// True when no guard value changed.
    var guardsIntact: Bool {
        storage[..<Self.guardCount].allSatisfy { $0 == Self.sentinel }
            && storage[(Self.guardCount + count)...].allSatisfy { $0 == Self.sentinel }
    }

    mutating func withPointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer { try body($0.baseAddress! + Self.guardCount) }
    }
}
