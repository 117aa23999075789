import DAELayers
import DAETestSupport
import Testing

/// `im2col` lays out patches as the rows of a matrix; `col2im` adds them back.
@Suite("im2col and col2im")
struct Im2ColTests {
    /// The patch matrix of `x` (`[n, H, W, C]`) as a tensor `[n·outH·outW, kh·kw·C]`.
    static func im2col(_ x: Tensor, _ g: ConvolutionGeometry) -> Tensor {
        let batch = x.shape[0]
        var col = Tensor(repeating: .nan, shape: [batch * g.outputPixels, g.patchSize])  // NaN: every entry must be written
        x.withUnsafeBufferPointer { input in
            col.withUnsafeMutableBufferPointer { g.im2col(input.baseAddress!, batch: batch, into: $0.baseAddress!) }
        }
        return col
    }

    /// `col2im` of `col` added into `initial` (`[n, H, W, C]`).
    static func col2im(_ col: Tensor, _ g: ConvolutionGeometry, into initial: Tensor) -> Tensor {
        var x = initial
        col.withUnsafeBufferPointer { c in
            x.withUnsafeMutableBufferPointer { g.col2im(c.baseAddress!, batch: initial.shape[0], addingInto: $0.baseAddress!) }
        }
        return x
    }

    static func geometry(_ h: Int, _ w: Int, _ c: Int, k: Int, s: Int, _ p: Padding, kw: Int? = nil) throws -> ConvolutionGeometry {
        try ConvolutionGeometry(inputHeight: h, inputWidth: w, inputChannels: c, kernelHeight: k, kernelWidth: kw ?? k, stride: s, padding: p)
    }

    @Test("a 3×3 image, 2×2 kernel, stride 1, same: zeros only below and right")
    func handWrittenStride1() throws {
        // 1 2 3
        // 4 5 6      padTotal = 2 + 2 − 3 = 1 → 0 before, 1 after
        // 7 8 9
        let x = Tensor(shape: [1, 3, 3, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let g = try Self.geometry(3, 3, 1, k: 2, s: 1, .same)
        let expected: [Float] = [
            1, 2, 4, 5,   // (0, 0)
            2, 3, 5, 6,   // (0, 1)
            3, 0, 6, 0,   // (0, 2): right column is padding
            4, 5, 7, 8,   // (1, 0)
            5, 6, 8, 9,
            6, 0, 9, 0,
            7, 8, 0, 0,   // (2, 0): bottom row is padding
            8, 9, 0, 0,
            9, 0, 0, 0,
        ]
        #expect(Self.im2col(x, g) == Tensor(shape: [9, 4], scalars: expected))
    }

    @Test("a 3×3 image, 3×3 kernel, stride 2, same: one row/column of zeros on every side")
    func handWrittenStride2() throws {
        let x = Tensor(shape: [1, 3, 3, 1], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let g = try Self.geometry(3, 3, 1, k: 3, s: 2, .same)   // out 2, padTotal 2 → 1 before
        #expect(g.padTop == 1 && g.outputHeight == 2)
        let expected: [Float] = [
            0, 0, 0,  0, 1, 2,  0, 4, 5,   // (0, 0): top = left = −1
            0, 0, 0,  2, 3, 0,  5, 6, 0,   // (0, 1): left = 1
            0, 4, 5,  0, 7, 8,  0, 0, 0,   // (1, 0)
            5, 6, 0,  8, 9, 0,  0, 0, 0,   // (1, 1)
        ]
        #expect(Self.im2col(x, g) == Tensor(shape: [4, 9], scalars: expected))
    }

    @Test("columns run (i, j, c), the row order of a Keras kernel; rows run over the batch")
    func columnOrderAndBatch() throws {
        // Two 2×2×2 images; a 2×2 valid kernel covers each whole image: its patch is the image in memory order.
        let x = Tensor(shape: [2, 2, 2, 2], scalars: (1...16).map(Float.init))
        let g = try Self.geometry(2, 2, 2, k: 2, s: 1, .valid)
        #expect(Self.im2col(x, g) == Tensor(shape: [2, 8], scalars: (1...16).map(Float.init)))
    }

    /// (H, W, C, kh, kw, stride, padding, batch)
    struct Case: Sendable, CustomTestStringConvertible {
        let h, w, c, kh, kw, s: Int, padding: Padding, batch: Int
        var testDescription: String { "\(h)×\(w)×\(c) k\(kh)×\(kw) s\(s) \(padding) n\(batch)" }
    }

    static let adjointCases: [Case] = [
        Case(h: 28, w: 28, c: 1, kh: 3, kw: 3, s: 2, padding: .same, batch: 1),
        Case(h: 7, w: 7, c: 4, kh: 3, kw: 3, s: 2, padding: .same, batch: 2),
        Case(h: 8, w: 8, c: 3, kh: 3, kw: 3, s: 1, padding: .same, batch: 2),
        Case(h: 7, w: 9, c: 2, kh: 3, kw: 5, s: 2, padding: .same, batch: 3),
        Case(h: 7, w: 9, c: 2, kh: 5, kw: 3, s: 1, padding: .valid, batch: 2),
        Case(h: 10, w: 8, c: 3, kh: 3, kw: 3, s: 3, padding: .same, batch: 1),
        Case(h: 3, w: 4, c: 2, kh: 5, kw: 5, s: 1, padding: .same, batch: 2),   // kernel wider than the image
        Case(h: 6, w: 6, c: 5, kh: 1, kw: 1, s: 2, padding: .same, batch: 2),
        Case(h: 6, w: 5, c: 2, kh: 4, kw: 2, s: 2, padding: .same, batch: 1),   // even kernels
    ]

    @Test("col2im is the adjoint of im2col: ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩", arguments: adjointCases)
    func adjoint(_ t: Case) throws {
        let g = try Self.geometry(t.h, t.w, t.c, k: t.kh, s: t.s, t.padding, kw: t.kw)
        let x = randomTensor(shape: [t.batch, t.h, t.w, t.c], seed: 11, range: -1...1)
        let c = randomTensor(shape: [t.batch * g.outputPixels, g.patchSize], seed: 12, range: -1...1)
        let left = innerProduct(Self.im2col(x, g), c)
        let back = Self.col2im(c, g, into: Tensor(zeros: x.shape))
        let right = innerProduct(x, back)
        // Both sides sum the same products in another order: compare with the sum of magnitudes.
        let scale = zip(Self.im2col(x, g).scalars, c.scalars).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
        #expect(abs(left - right) <= 1e-6 * scale, "⟨im2col x, c⟩ = \(left), ⟨x, col2im c⟩ = \(right)")
    }

    @Test("col2im adds into its output instead of overwriting it")
    func col2imAccumulates() throws {
        let g = try Self.geometry(5, 5, 2, k: 3, s: 2, .same)
        let c = randomTensor(shape: [g.outputPixels, g.patchSize], seed: 3, range: -1...1)
        let initial = randomTensor(shape: [1, 5, 5, 2], seed: 4, range: -1...1)
        let fromZero = Self.col2im(c, g, into: Tensor(zeros: initial.shape))
        let fromInitial = Self.col2im(c, g, into: initial)
        let sum = Tensor(shape: initial.shape, scalars: zip(fromZero.scalars, initial.scalars).map { $0 + $1 })
        expectApproximatelyEqual(fromInitial, sum, relativeTolerance: 1e-6, "col2im into a non-zero buffer")
    }

    @Test("col2im without accumulate overwrites its output, starting from a per-channel bias when given",
          arguments: adjointCases)
    func col2imOverwritesFromBias(_ t: Case) throws {
        let g = try Self.geometry(t.h, t.w, t.c, k: t.kh, s: t.s, t.padding, kw: t.kw)
        let c = randomTensor(shape: [t.batch * g.outputPixels, g.patchSize], seed: 5, range: -1...1)
        let bias = randomTensor(shape: [t.c], seed: 6, range: -1...1)
        let reference = Self.col2im(c, g, into: Tensor(zeros: [t.batch, t.h, t.w, t.c]))
        for withBias in [false, true] {
            var x = Tensor(repeating: .nan, shape: [t.batch, t.h, t.w, t.c])   // NaN: every pixel must be written
            c.withUnsafeBufferPointer { cols in
                bias.withUnsafeBufferPointer { b in
                    x.withUnsafeMutableBufferPointer {
                        g.col2im(cols.baseAddress!, batch: t.batch, into: $0.baseAddress!, accumulate: false,
                                 bias: withBias ? b.baseAddress! : nil)
                    }
                }
            }
            let expected = withBias
                ? Tensor(shape: x.shape, scalars: reference.scalars.enumerated().map { $1 + bias.scalars[$0 % t.c] })
                : reference
            expectApproximatelyEqual(x, expected, relativeTolerance: 1e-6, "col2im overwriting, bias: \(withBias)")
        }
    }

    @Test("col2im of all-ones counts how many patches hold each pixel")
    func col2imCounts() throws {
        // 5 wide, k 3, s 2, same: out 3, padTotal 2 → 1 before. Columns −1…1, 1…3, 3…5: pixels 1 and 3 twice.
        let g = try Self.geometry(1, 5, 1, k: 1, s: 1, .same, kw: 3)
        let strided = try Self.geometry(1, 5, 1, k: 1, s: 2, .same, kw: 3)
        #expect(strided.padLeft == 1)
        let ones = Tensor(repeating: 1, shape: [strided.outputPixels, strided.patchSize])
        #expect(Self.col2im(ones, strided, into: Tensor(zeros: [1, 1, 5, 1])).scalars == [1, 2, 1, 2, 1])
        // Stride 1: interior pixels are in 3 patches, the edges in 2.
        let all = Tensor(repeating: 1, shape: [g.outputPixels, g.patchSize])
        #expect(Self.col2im(all, g, into: Tensor(zeros: [1, 1, 5, 1])).scalars == [2, 3, 3, 3, 2])
    }
}
