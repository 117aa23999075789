import DAELayers
import DAETestSupport
import Testing

/// The layers (im2col + GEMM, or direct loops for one input channel)
/// against the loops of ``NaiveConvolution``, written from the definitions.
@Suite("Conv2D and Conv2DTranspose against naive loops")
struct ConvolutionTests {
    /// One convolution: input `batch × h × w × inC`, `outC` filters of `k × k`.
    struct Case: Sendable, CustomTestStringConvertible {
        let h, w, inC, outC, k, s: Int, padding: Padding, batch: Int
        var testDescription: String { "\(batch)×\(h)×\(w)×\(inC) → \(outC), k\(k) s\(s) \(padding)" }
    }

    /// Odd, even and non-square sizes; strides 1, 2 and 3; kernels 1, 3 and 5; both paddings.
    /// The 28×28 cases keep few channels and one image: the naive loops are slow in debug builds.
    static let convolutionCases: [Case] = [
        Case(h: 28, w: 28, inC: 1, outC: 8, k: 3, s: 2, padding: .same, batch: 1),   // the tutorial's first layer
        Case(h: 28, w: 28, inC: 3, outC: 1, k: 5, s: 1, padding: .same, batch: 1),
        Case(h: 5, w: 5, inC: 1, outC: 3, k: 3, s: 1, padding: .same, batch: 1),
        Case(h: 5, w: 5, inC: 3, outC: 8, k: 5, s: 2, padding: .same, batch: 3),
        Case(h: 7, w: 7, inC: 3, outC: 8, k: 3, s: 2, padding: .same, batch: 3),
        Case(h: 7, w: 9, inC: 3, outC: 16, k: 3, s: 2, padding: .same, batch: 1),
        Case(h: 7, w: 9, inC: 8, outC: 3, k: 5, s: 1, padding: .valid, batch: 3),
        Case(h: 8, w: 8, inC: 8, outC: 16, k: 3, s: 2, padding: .same, batch: 3),
        Case(h: 8, w: 8, inC: 16, outC: 8, k: 1, s: 1, padding: .same, batch: 1),    // pointwise: no im2col
        Case(h: 8, w: 8, inC: 3, outC: 8, k: 1, s: 2, padding: .same, batch: 3),     // 1×1 but strided
        Case(h: 8, w: 7, inC: 1, outC: 8, k: 3, s: 2, padding: .valid, batch: 3),
        Case(h: 9, w: 8, inC: 3, outC: 8, k: 3, s: 3, padding: .same, batch: 3),
        Case(h: 5, w: 5, inC: 3, outC: 3, k: 5, s: 1, padding: .valid, batch: 1),    // kernel as large as the input
        Case(h: 7, w: 7, inC: 16, outC: 16, k: 3, s: 1, padding: .valid, batch: 3),
        Case(h: 5, w: 7, inC: 8, outC: 1, k: 1, s: 1, padding: .valid, batch: 3),
        Case(h: 3, w: 3, inC: 2, outC: 4, k: 5, s: 2, padding: .same, batch: 1),     // kernel larger than the input
        Case(h: 11, w: 12, inC: 2, outC: 9, k: 3, s: 1, padding: .same, batch: 2),   // two input channels, 9 output channels
    ]

    /// A random tensor of the shape of `y` for the output gradient.
    static func outputGradient(like shape: [Int], seed: UInt64) -> Tensor {
        randomTensor(shape: shape, seed: seed, range: -1...1)
    }

    /// The sum of `dy` over every position: the bias gradient of a convolution.
    static func biasGradient(_ dy: Tensor) -> Tensor {
        let channels = dy.shape.last!
        var sums = [Double](repeating: 0, count: channels)
        for (i, v) in dy.scalars.enumerated() { sums[i % channels] += Double(v) }
        return Tensor(shape: [channels], scalars: sums.map(Float.init))
    }

    @Test("Conv2D forward, input gradient and kernel gradient match the naive loops", arguments: convolutionCases)
    func conv2D(_ c: Case) throws {
        try Self.checkConv2D(c)
    }

    /// Convolutions with one input channel, which run as direct loops instead
    /// of im2col + GEMM: strides 1 and 2, kernels 1, 3 and 5, both paddings,
    /// widths that leave 0–3 pixels after the groups of four, and output
    /// channel counts below, at and above the 8- and 32-lane blocks.
    static let directCases: [Case] = {
        var cases: [Case] = []
        for (index, outC) in [32, 1, 13, 8, 5, 41].enumerated() {
            for s in [1, 2] {
                for k in [1, 3, 5] where !(k == 1 && s == 1) {   // 1×1 stride 1 is pointwise: a plain GEMM
                    let padding: Padding = (index + k + s).isMultiple(of: 2) ? .same : .valid
                    cases.append(Case(h: 6 + index, w: 7 + 2 * index + s, inC: 1, outC: outC, k: k, s: s,
                                      padding: padding, batch: 2))
                }
            }
        }
        return cases
    }()

    @Test("direct loops are chosen for few input channels (1, or up to 4 with AVX2), except a pointwise convolution")
    func directLoopSelection() throws {
        func geometry(channels: Int, kernel: Int, stride: Int) throws -> ConvolutionGeometry {
            try ConvolutionGeometry(inputHeight: 8, inputWidth: 8, inputChannels: channels,
                                    kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: .same)
        }
        #expect(try geometry(channels: 1, kernel: 3, stride: 2).usesDirectLoops)
        #expect(try geometry(channels: 1, kernel: 1, stride: 2).usesDirectLoops)
        #expect(try !geometry(channels: 1, kernel: 1, stride: 1).usesDirectLoops)   // pointwise: the input is the patch matrix
        let limit = ConvolutionGeometry.directLoopChannelLimit
        #expect(limit == (ConvolutionGeometry.directLoopsUseAVX2 ? 4 : 1))
        for channels in 2...5 {
            #expect(try geometry(channels: channels, kernel: 3, stride: 1).usesDirectLoops == (channels <= limit))
        }
        #expect(try !geometry(channels: 32, kernel: 3, stride: 2).usesDirectLoops)
    }

    @Test("Conv2D with one input channel runs direct loops that match the naive loops", arguments: directCases)
    func directConv2D(_ c: Case) throws {
        let geometry = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                               kernelHeight: c.k, kernelWidth: c.k, stride: c.s, padding: c.padding)
        #expect(geometry.usesDirectLoops)
        try Self.checkConv2D(c)
    }

    @Test("Conv2DTranspose with one filter runs direct loops that match the naive loops", arguments: directCases)
    func directConv2DTranspose(_ c: Case) throws {
        // The transposed layer's filters are its adjoint convolution's input channels.
        let transposed = Case(h: c.h, w: c.w, inC: c.outC, outC: c.inC, k: c.k, s: c.s, padding: c.padding, batch: c.batch)
        let kernel = Tensor(zeros: [c.k, c.k, transposed.outC, transposed.inC])
        let layer = try Conv2DTranspose(name: "t", inputShape: [c.h, c.w, transposed.inC], kernel: kernel,
                                        bias: Tensor(zeros: [transposed.outC]), stride: c.s, padding: c.padding,
                                        activation: .identity)
        #expect(layer.adjointGeometry.usesDirectLoops)
        try Self.checkConv2DTranspose(transposed)
    }

    /// Checks a Conv2D's three passes and its bias gradient against the naive loops.
    static func checkConv2D(_ c: Case) throws {
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 1)
        let kernel = randomTensor(shape: [c.k, c.k, c.inC, c.outC], seed: 2, range: -0.5...0.5)
        let bias = randomTensor(shape: [c.outC], seed: 3, range: -0.5...0.5)
        let layer = try Conv2D(name: "conv", inputShape: [c.h, c.w, c.inC], kernel: kernel, bias: bias,
                               stride: c.s, padding: c.padding, activation: .identity)

        let expected = try NaiveConvolution.conv2D(x, kernel: kernel, bias: bias, stride: c.s, padding: c.padding)
        let y = try layer(x)
        #expect(y.shape == [c.batch] + layer.outputShape)
        expectApproximatelyEqual(y, expected, relativeTolerance: 1e-5, "forward")

        let dy = outputGradient(like: y.shape, seed: 4)
        var gradients: [Tensor] = []
        let dx = try layer.backward(input: x, outputGradient: dy, parameterGradients: &gradients)
        expectApproximatelyEqual(dx, try NaiveConvolution.conv2DInputGradient(dy, kernel: kernel, inputShape: x.shape,
                                                                              stride: c.s, padding: c.padding),
                                 relativeTolerance: 1e-5, "input gradient")
        expectApproximatelyEqual(gradients[0], try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: (c.k, c.k),
                                                                                         stride: c.s, padding: c.padding),
                                 relativeTolerance: 1e-5, "kernel gradient")
        expectApproximatelyEqual(gradients[1], biasGradient(dy), relativeTolerance: 1e-5, "bias gradient")
    }

    @Test("Conv2D with a 3×5 kernel (not square) matches the naive loops")
    func conv2DRectangularKernel() throws {
        let x = randomTensor(shape: [2, 7, 9, 3], seed: 1)
        let kernel = randomTensor(shape: [3, 5, 3, 4], seed: 2, range: -0.5...0.5)
        let layer = try Conv2D(name: "conv", inputShape: [7, 9, 3], kernel: kernel, bias: Tensor(zeros: [4]),
                               stride: 2, padding: .same, activation: .identity)
        expectApproximatelyEqual(try layer(x), try NaiveConvolution.conv2D(x, kernel: kernel, stride: 2, padding: .same),
                                 relativeTolerance: 1e-5, "forward")
    }

    @Test("parameter gradients are added to what the caller passes in")
    func gradientsAccumulate() throws {
        var rng = SplitMix64(seed: 5)
        let layer = try Conv2D(name: "conv", inputShape: [5, 5, 2], filters: 3, kernelSize: 3, stride: 2, using: &rng)
        let x = randomTensor(shape: [2, 5, 5, 2], seed: 6)
        let dy = Self.outputGradient(like: [2] + layer.outputShape, seed: 7)
        var once: [Tensor] = []
        _ = try layer.backward(input: x, outputGradient: dy, parameterGradients: &once)
        var twice = once
        _ = try layer.backward(input: x, outputGradient: dy, parameterGradients: &twice)
        for (a, b) in zip(once, twice) {
            expectApproximatelyEqual(b, Tensor(shape: a.shape, scalars: a.scalars.map { 2 * $0 }), relativeTolerance: 1e-6)
        }
    }

    /// Transposed convolutions: input `batch × h × w × inC`, `outC` filters.
    static let transposeCases: [Case] = [
        Case(h: 7, w: 7, inC: 8, outC: 3, k: 3, s: 2, padding: .same, batch: 3),     // 7 → 14
        Case(h: 14, w: 14, inC: 4, outC: 1, k: 3, s: 2, padding: .same, batch: 1),   // 14 → 28
        Case(h: 4, w: 5, inC: 3, outC: 8, k: 3, s: 2, padding: .same, batch: 1),     // not square
        Case(h: 5, w: 5, inC: 3, outC: 3, k: 5, s: 2, padding: .same, batch: 3),
        Case(h: 7, w: 7, inC: 16, outC: 8, k: 3, s: 1, padding: .same, batch: 3),
        Case(h: 8, w: 8, inC: 8, outC: 16, k: 1, s: 1, padding: .same, batch: 1),    // pointwise
        Case(h: 3, w: 3, inC: 2, outC: 4, k: 1, s: 2, padding: .same, batch: 3),     // stride > kernel: gaps
        Case(h: 5, w: 4, inC: 3, outC: 8, k: 3, s: 2, padding: .valid, batch: 3),    // 5 → 11, 4 → 9
        Case(h: 6, w: 6, inC: 3, outC: 16, k: 3, s: 1, padding: .valid, batch: 1),
        Case(h: 3, w: 3, inC: 1, outC: 8, k: 3, s: 3, padding: .valid, batch: 1),
        Case(h: 4, w: 3, inC: 3, outC: 5, k: 5, s: 3, padding: .same, batch: 3),     // stride 3
        // One or two filters: the thin products of the tutorial's output layer.
        Case(h: 9, w: 11, inC: 32, outC: 1, k: 3, s: 1, padding: .same, batch: 2),   // the tutorial's output layer
        Case(h: 6, w: 13, inC: 9, outC: 2, k: 5, s: 2, padding: .same, batch: 2),
        Case(h: 5, w: 10, inC: 3, outC: 1, k: 3, s: 2, padding: .valid, batch: 1),
    ]

    @Test("Conv2DTranspose forward and gradients match the naive loops", arguments: transposeCases)
    func conv2DTranspose(_ c: Case) throws {
        try Self.checkConv2DTranspose(c)
    }

    /// Checks a Conv2DTranspose's three passes and its bias gradient against the naive loops.
    static func checkConv2DTranspose(_ c: Case) throws {
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 1)
        let kernel = randomTensor(shape: [c.k, c.k, c.outC, c.inC], seed: 2, range: -0.5...0.5)   // [kh, kw, out, in]
        let bias = randomTensor(shape: [c.outC], seed: 3, range: -0.5...0.5)
        let layer = try Conv2DTranspose(name: "deconv", inputShape: [c.h, c.w, c.inC], kernel: kernel, bias: bias,
                                        stride: c.s, padding: c.padding, activation: .identity)
        let y = try layer(x)
        let expected = try NaiveConvolution.conv2DTranspose(x, kernel: kernel, bias: bias, stride: c.s, padding: c.padding)
        #expect(y.shape == [c.batch] + layer.outputShape)
        expectApproximatelyEqual(y, expected, relativeTolerance: 1e-5, "forward")

        // Backward: the input gradient is the convolution with the same kernel, the kernel
        // gradient is the convolution's kernel gradient with the roles of input and output swapped.
        let dy = outputGradient(like: y.shape, seed: 4)
        var gradients: [Tensor] = []
        let dx = try layer.backward(input: x, outputGradient: dy, parameterGradients: &gradients)
        expectApproximatelyEqual(dx, try NaiveConvolution.conv2D(dy, kernel: kernel, stride: c.s, padding: c.padding),
                                 relativeTolerance: 1e-5, "input gradient")
        expectApproximatelyEqual(gradients[0], try NaiveConvolution.conv2DKernelGradient(dy, outputGradient: x, kernelSize: (c.k, c.k),
                                                                                         stride: c.s, padding: c.padding),
                                 relativeTolerance: 1e-5, "kernel gradient")
        expectApproximatelyEqual(gradients[1], biasGradient(dy), relativeTolerance: 1e-5, "bias gradient")
    }

    @Test("Conv2DTranspose is the adjoint of Conv2D with the same kernel: ⟨T x, y⟩ = ⟨x, C y⟩", arguments: transposeCases)
    func transposeIsAdjoint(_ c: Case) throws {
        let kernel = randomTensor(shape: [c.k, c.k, c.outC, c.inC], seed: 5, range: -0.5...0.5)
        let transpose = try Conv2DTranspose(name: "t", inputShape: [c.h, c.w, c.inC], kernel: kernel, bias: Tensor(zeros: [c.outC]),
                                            stride: c.s, padding: c.padding, activation: .identity)
        // Read as a Conv2D kernel [kh, kw, in, out], the same tensor maps T's output shape back to its input shape.
        let convolution = try Conv2D(name: "c", inputShape: transpose.outputShape, kernel: kernel, bias: Tensor(zeros: [c.inC]),
                                     stride: c.s, padding: c.padding, activation: .identity)
        #expect(convolution.outputShape == transpose.inputShape)
        let x = randomTensor(shape: [c.batch] + transpose.inputShape, seed: 6, range: -1...1)
        let y = randomTensor(shape: [c.batch] + transpose.outputShape, seed: 7, range: -1...1)
        let tx = try transpose(x), cy = try convolution(y)
        let left = innerProduct(tx, y), right = innerProduct(x, cy)
        let scale = zip(tx.scalars, y.scalars).reduce(0.0) { $0 + abs(Double($1.0 * $1.1)) }
        #expect(abs(left - right) <= 1e-5 * scale, "⟨T x, y⟩ = \(left), ⟨x, C y⟩ = \(right)")
    }
}
