import DAELayers
import Testing

/// TensorFlow's `same` and `valid` index arithmetic, as ``ConvolutionGeometry`` computes it.
@Suite("Convolution geometry")
struct GeometryTests {
    /// One axis of a convolution: input size, kernel, stride → output size and padding before.
    struct Axis: Sendable, CustomTestStringConvertible {
        let input, kernel, stride, output, padBefore: Int
        var testDescription: String { "in \(input), k \(kernel), s \(stride) → \(output), pad before \(padBefore)" }
    }

    // out = ceil(in / s); padTotal = max((out − 1)·s + k − in, 0); padBefore = padTotal / 2.
    static let sameCases: [Axis] = [
        Axis(input: 28, kernel: 3, stride: 2, output: 14, padBefore: 0),  // total 1: the extra row goes below
        Axis(input: 14, kernel: 3, stride: 2, output: 7, padBefore: 0),   // total 1
        Axis(input: 28, kernel: 3, stride: 1, output: 28, padBefore: 1),  // total 2: one each side
        Axis(input: 7, kernel: 5, stride: 2, output: 4, padBefore: 2),    // total 3·2 + 5 − 7 = 4
        Axis(input: 7, kernel: 3, stride: 2, output: 4, padBefore: 1),    // odd input: total 2
        Axis(input: 8, kernel: 3, stride: 2, output: 4, padBefore: 0),    // even input: total 1
        Axis(input: 8, kernel: 4, stride: 2, output: 4, padBefore: 1),    // even kernel: total 2
        Axis(input: 6, kernel: 4, stride: 1, output: 6, padBefore: 1),    // total 3: 1 before, 2 after
        Axis(input: 8, kernel: 5, stride: 1, output: 8, padBefore: 2),
        Axis(input: 5, kernel: 1, stride: 2, output: 3, padBefore: 0),    // total 0
        Axis(input: 9, kernel: 3, stride: 3, output: 3, padBefore: 0),    // total 0
        Axis(input: 10, kernel: 3, stride: 3, output: 4, padBefore: 1),   // total 2
        Axis(input: 1, kernel: 3, stride: 2, output: 1, padBefore: 1),    // a kernel larger than the input is fine
        Axis(input: 2, kernel: 5, stride: 3, output: 1, padBefore: 1),    // total 3
        Axis(input: 4, kernel: 2, stride: 4, output: 1, padBefore: 0),    // total 0: stride > kernel
    ]

    @Test("same padding follows TensorFlow", arguments: sameCases)
    func samePadding(_ axis: Axis) throws {
        // The axis along the height, and (with a different, fixed height) along the width.
        let tall = try ConvolutionGeometry(inputHeight: axis.input, inputWidth: 5, inputChannels: 2,
                                           kernelHeight: axis.kernel, kernelWidth: 1, stride: axis.stride, padding: .same)
        #expect(tall.outputHeight == axis.output)
        #expect(tall.padTop == axis.padBefore)
        let wide = try ConvolutionGeometry(inputHeight: 5, inputWidth: axis.input, inputChannels: 2,
                                           kernelHeight: 1, kernelWidth: axis.kernel, stride: axis.stride, padding: .same)
        #expect(wide.outputWidth == axis.output)
        #expect(wide.padLeft == axis.padBefore)
        // And the formula itself, so the table above cannot drift from the contract.
        let total = max((axis.output - 1) * axis.stride + axis.kernel - axis.input, 0)
        #expect(axis.output == (axis.input + axis.stride - 1) / axis.stride)
        #expect(axis.padBefore == total / 2)
    }

    @Test("height and width are independent (7×9 input, 3×5 kernel)")
    func nonSquare() throws {
        let g = try ConvolutionGeometry(inputHeight: 7, inputWidth: 9, inputChannels: 3,
                                        kernelHeight: 3, kernelWidth: 5, stride: 2, padding: .same)
        #expect([g.outputHeight, g.outputWidth] == [4, 5])
        #expect([g.padTop, g.padLeft] == [1, 2])   // totals 2 and 4
        #expect(g.patchSize == 3 * 5 * 3)
        #expect(g.outputPixels == 20)
        #expect(g.inputCount == 7 * 9 * 3)
        #expect(!g.isPointwise)
    }

    static let validCases: [Axis] = [
        Axis(input: 28, kernel: 3, stride: 2, output: 13, padBefore: 0),
        Axis(input: 7, kernel: 3, stride: 1, output: 5, padBefore: 0),
        Axis(input: 8, kernel: 3, stride: 2, output: 3, padBefore: 0),
        Axis(input: 5, kernel: 5, stride: 1, output: 1, padBefore: 0),    // kernel == input
        Axis(input: 9, kernel: 2, stride: 3, output: 3, padBefore: 0),
        Axis(input: 6, kernel: 1, stride: 1, output: 6, padBefore: 0),
    ]

    @Test("valid padding: floor((in − k) / s) + 1, no padding", arguments: validCases)
    func validPadding(_ axis: Axis) throws {
        let g = try ConvolutionGeometry(inputHeight: axis.input, inputWidth: axis.input, inputChannels: 1,
                                        kernelHeight: axis.kernel, kernelWidth: axis.kernel, stride: axis.stride, padding: .valid)
        #expect([g.outputHeight, g.outputWidth] == [axis.output, axis.output])
        #expect([g.padTop, g.padLeft] == [0, 0])
    }

    @Test("only a 1×1, stride-1, unpadded convolution is pointwise")
    func pointwise() throws {
        func g(_ k: Int, _ s: Int, _ p: Padding) throws -> ConvolutionGeometry {
            try ConvolutionGeometry(inputHeight: 6, inputWidth: 6, inputChannels: 2, kernelHeight: k, kernelWidth: k, stride: s, padding: p)
        }
        #expect(try g(1, 1, .same).isPointwise)
        #expect(try g(1, 1, .valid).isPointwise)
        #expect(try !g(1, 2, .same).isPointwise)
        #expect(try !g(3, 1, .valid).isPointwise)
    }

    @Test("a valid kernel larger than the input throws, naming the axis")
    func validKernelTooLarge() {
        let error = #expect(throws: DAEError.self) {
            try ConvolutionGeometry(inputHeight: 4, inputWidth: 9, inputChannels: 1,
                                    kernelHeight: 5, kernelWidth: 5, stride: 1, padding: .valid)
        }
        #expect(error?.description.contains("height") == true, "\(String(describing: error))")
        #expect(error?.description.contains("5") == true)
        // The same kernel is fine with `same` padding.
        #expect(throws: Never.self) {
            try ConvolutionGeometry(inputHeight: 4, inputWidth: 9, inputChannels: 1,
                                    kernelHeight: 5, kernelWidth: 5, stride: 1, padding: .same)
        }
    }

    /// (height, width, channels, kernel, stride): one of them not positive.
    static let nonPositive: [(Int, Int, Int, Int, Int)] = [
        (0, 5, 1, 3, 1), (5, 0, 1, 3, 1), (5, 5, 0, 3, 1), (-1, 5, 1, 3, 1),
        (5, 5, 1, 0, 1), (5, 5, 1, -3, 1), (5, 5, 1, 3, 0), (5, 5, 1, 3, -2),
    ]

    @Test("zero or negative sizes throw invalidConfiguration", arguments: nonPositive)
    func nonPositiveSizes(_ sizes: (Int, Int, Int, Int, Int)) {
        for padding in Padding.allCases {
            let error = #expect(throws: DAEError.self) {
                try ConvolutionGeometry(inputHeight: sizes.0, inputWidth: sizes.1, inputChannels: sizes.2,
                                        kernelHeight: sizes.3, kernelWidth: sizes.3, stride: sizes.4, padding: padding)
            }
            guard case .invalidConfiguration(let reason)? = error else {
                Issue.record("expected invalidConfiguration, got \(String(describing: error))")
                continue
            }
            #expect(reason.contains("positive"), "\(reason)")
        }
    }

    /// (input, kernel, stride, padding, output) of a transposed convolution.
    static let transposed: [(Int, Int, Int, Padding, Int)] = [
        (7, 3, 2, .same, 14), (14, 3, 2, .same, 28), (28, 3, 1, .same, 28), (4, 5, 3, .same, 12),
        (7, 3, 2, .valid, 15), (5, 1, 1, .valid, 5), (3, 5, 2, .valid, 9), (4, 2, 2, .valid, 8),
    ]

    @Test("transposed output size: in·s for same, (in − 1)·s + k for valid", arguments: transposed)
    func transposedOutputSize(_ c: (Int, Int, Int, Padding, Int)) throws {
        #expect(ConvolutionGeometry.transposedOutputSize(input: c.0, kernel: c.1, stride: c.2, padding: c.3) == c.4)
        // The layer agrees, and the convolution it is the adjoint of maps its output back to its input.
        var rng = SplitMix64(seed: 1)
        let layer = try Conv2DTranspose(name: "t", inputShape: [c.0, c.0 + 1, 2], filters: 3, kernelSize: c.1,
                                        stride: c.2, padding: c.3, using: &rng)
        let expectedWidth = ConvolutionGeometry.transposedOutputSize(input: c.0 + 1, kernel: c.1, stride: c.2, padding: c.3)
        #expect(layer.outputShape == [c.4, expectedWidth, 3])
        #expect(layer.adjointGeometry.outputHeight == c.0)
        #expect(layer.adjointGeometry.outputWidth == c.0 + 1)
    }
}
