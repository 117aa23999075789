#if arch(x86_64)
import CDirectKernels
#endif

/// The forward pass of a stride-1 3×3 convolution as Winograd's minimal
/// filtering algorithm F(2×2, 3×3) (Lavin & Gray 2016): its transforms here,
/// its block loop in ``WinogradPass``; its two gradients, for training, in
/// `WinogradGradients.swift`.
///
/// The output is cut into 2×2 tiles; each reads a 4×4 input tile (rows
/// `2·ty − padTop …+3`, columns likewise, zero outside the image). With
/// `Bᵀ`, `G` and `Aᵀ` below, for every tile, input channel `c` and filter `f`
///
///     V[e, c]  = (Bᵀ d_c B)[e]                   input transform, e = 4·a + b ∈ 0..<16
///     U[e, c, f] = (G g_{c,f} Gᵀ)[e]             kernel transform, once per weights
///     M[e, f]  = Σ_c V[e, c] · U[e, c, f]        16 GEMMs
///     y_f      = Aᵀ M_f A + bias_f               output transform, 2×2 pixels
///
/// so a tile costs 16·Cin·Cout multiplications instead of 36·Cin·Cout
/// (2.25× fewer). The tiles of the whole batch are taken in blocks of
/// ``blockTiles``: a block's `V` and `M` stay in the core's L2 cache
/// between the transforms and the GEMMs.
///
/// The 16 GEMMs run as register-blocked C kernels where the CPU has
/// AVX-512 or AVX2 + FMA (``WinogradKernels``: `U[e]` stays in L1, nothing
/// is packed, and every entry of `M` is one chain of FMAs over the input
/// channels, so both give the same bits whatever the block), else as
/// OpenBLAS sgemm calls. The input and output transforms run as C with
/// AVX-512 or AVX2 intrinsics where the CPU has them (``WinogradTransforms``,
/// `winograd_transforms.c`), else as the Swift SIMD loops below; all three
/// give the same bits.
///
/// Rounding: a pixel's value depends on where it sits in its 2×2 tile (the
/// four output formulas differ), never on pixels outside its 3×3 window
/// (`Bᵀ` and `Aᵀ` are banded: output (i, j) reads transformed entries
/// `a ∈ i…i+2`, `b ∈ j…j+2`, which read input rows and columns `i…i+2`,
/// `j…j+2` only). So a crop of the input whose origin is even in both
/// directions gives, at every pixel whose window lies inside the crop, the
/// same bits as the whole image: tiled inference aligns its tile origins
/// to 2 for this (`LayerSpec` `tileAlignment`).
///
/// Measured error against float64 and the timings that chose F(2×2, 3×3)
/// and the block size: Docs/Benchmarks.md ("Winograd F(2×2, 3×3)").
struct WinogradConvolution: WinogradPass, Sendable, Equatable {
    /// Output pixels per tile side, input pixels per tile side, and transformed entries per tile.
    static let outputTile = 2, inputTile = 4, elements = 16

    /// Tiles per block (see the type's comment): measured on 48 and 64 channels, Docs/Benchmarks.md.
    nonisolated(unsafe) static var defaultBlockTiles = 128

    /// The convolution's geometry: 3×3 kernel, stride 1, any padding.
    var geometry: ConvolutionGeometry
    /// Filters (Cout).
    let outputChannels: Int
    /// `U[16, Cin, Cout]`: `G g Gᵀ` for every input channel and filter, computed in Double and rounded once.
    let transformedKernel: [Float]
    /// Tiles transformed and multiplied together.
    let blockTiles: Int
    /// Threads the forward pass splits its blocks across (``Sequential/withWinogradThreads(_:)``).
    var threads = 1
    /// Which implementation runs the 16 GEMMs (``WinogradKernels/best`` unless a benchmark chose).
    let kernels: WinogradKernels
    /// The kernels layers switched on from now on use (``Conv2D/winogradKernels``).
    nonisolated(unsafe) static var defaultKernels = WinogradKernels.best
    /// Which implementation runs the input and output transforms (all give the same bits).
    let transforms: WinogradTransforms
    /// The transforms layers switched on from now on use (``Conv2D/winogradTransforms``).
    nonisolated(unsafe) static var defaultTransforms = WinogradTransforms.best

    /// True for the convolutions this path serves: 3×3, stride 1, and
    /// lowered to a GEMM today (few-channel convolutions keep their direct loops).
    static func supports(_ geometry: ConvolutionGeometry) -> Bool {
        geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.stride == 1 && !geometry.usesDirectLoops
    }

    /// Transforms `weights` (Keras's `[3, 3, Cin, Cout]`) once.
    init(geometry: ConvolutionGeometry, weights: UnsafePointer<Float>, outputChannels: Int,
         blockTiles: Int = WinogradConvolution.defaultBlockTiles, kernels: WinogradKernels = WinogradConvolution.defaultKernels,
         transforms: WinogradTransforms = WinogradConvolution.defaultTransforms) {
        precondition(geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.stride == 1,
                     "Winograd F(2×2, 3×3) needs a 3×3 kernel at stride 1")
        self.init(geometry: geometry,
                  transformedKernel: Self.transformKernel(weights, inputChannels: geometry.inputChannels, outputChannels: outputChannels),
                  outputChannels: outputChannels, blockTiles: blockTiles, kernels: kernels, transforms: transforms)
    }

    /// A pass with an already transformed kernel (`U[16, Cin, Cout]`): the input
    /// gradient's (``inputGradientConvolution()``, `WinogradGradients.swift`).
    init(geometry: ConvolutionGeometry, transformedKernel: [Float], outputChannels: Int, blockTiles: Int,
         kernels: WinogradKernels, transforms: WinogradTransforms) {
        precondition(geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.stride == 1,
                     "Winograd F(2×2, 3×3) needs a 3×3 kernel at stride 1")
        precondition(transformedKernel.count == Self.elements * geometry.inputChannels * outputChannels,
                     "a transformed kernel holds 16 · Cin · Cout floats")
        self.geometry = geometry
        self.outputChannels = outputChannels
        self.blockTiles = max(1, blockTiles)
        self.kernels = kernels
        self.transforms = transforms
        self.transformedKernel = transformedKernel
    }

    /// `U[e, c, f] = (G g Gᵀ)[e]` with `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`:
    /// each entry the sum over `i`, then `j`, of `G[a, i] · g[i, j] · G[b, j]`
    /// in Double, rounded once; 8 filters at a time (each lane the same
    /// operations in the same order as one filter alone, so the same bits).
    /// Training transforms the kernels again after every Adam step.
    static func transformKernel(_ weights: UnsafePointer<Float>, inputChannels cin: Int, outputChannels cout: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: elements * cin * cout) { u, initialized in
            let u = u.baseAddress!
            for c in 0..<cin {
                var f = 0
                while f + 8 <= cout {
                    transformKernel(weights + c * cout + f, rowStride: cin * cout, into: u + c * cout + f, entryStride: cin * cout,
                                    load: { SIMD8<Double>(SIMD8<Float>(UnsafeRawPointer($0).loadUnaligned(as: SIMD8<Float>.self))) },
                                    store: { UnsafeMutableRawPointer($1).storeBytes(of: SIMD8<Float>($0), as: SIMD8<Float>.self) })
                    f += 8
                }
                while f < cout {
                    transformKernel(weights + c * cout + f, rowStride: cin * cout, into: u + c * cout + f, entryStride: cin * cout,
                                    load: { SIMD2<Double>(Double($0.pointee), 0) }, store: { $1.pointee = Float($0[0]) })
                    f += 1
                }
            }
            initialized = elements * cin * cout
        }
    }

    /// The 16 entries of one vector of filters: `g[t]` at `weights + t · rowStride`
    /// (t = 3·i + j), entry `e` written at `u + e · entryStride`.
    @inline(__always)
    private static func transformKernel<V: SIMD>(_ weights: UnsafePointer<Float>, rowStride: Int, into u: UnsafeMutablePointer<Float>,
                                                 entryStride: Int, load: (UnsafePointer<Float>) -> V,
                                                 store: (V, UnsafeMutablePointer<Float>) -> Void) where V.Scalar == Double {
        // G's rows, flat: g[3·a + i].
        let g: (Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double, Double)
            = (1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1)
        withUnsafeBytes(of: g) { raw in
            let g = raw.baseAddress!.assumingMemoryBound(to: Double.self)
            let k = (load(weights), load(weights + rowStride), load(weights + 2 * rowStride),
                     load(weights + 3 * rowStride), load(weights + 4 * rowStride), load(weights + 5 * rowStride),
                     load(weights + 6 * rowStride), load(weights + 7 * rowStride), load(weights + 8 * rowStride))
            withUnsafeBytes(of: k) { raw in
                let k = raw.baseAddress!.assumingMemoryBound(to: V.self)
                for a in 0..<4 {
                    for b in 0..<4 {
                        // Summed in this order (i, then j) in Double, rounded once.
                        var sum = V.zero
                        for i in 0..<3 { for j in 0..<3 { sum += g[3 * a + i] * k[3 * i + j] * g[3 * b + j] } }
                        store(sum, u + (a * 4 + b) * entryStride)
                    }
                }
            }
        }
    }

    /// `V[k, e, :]` for tiles `tiles` of the batch (k = tile − tiles.lowerBound),
    /// into `v` (`tiles.count · 16 · Cin` floats); `edge`: 16·Cin floats of scratch.
    func inputTransform(_ input: UnsafePointer<Float>, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>,
                        edge: UnsafeMutablePointer<Float>, transforms: WinogradTransforms) {
        switch transforms {
        case .swift:
            let stride = Self.elements * geometry.inputChannels
            for k in 0..<tiles.count { inputTransform(input, tile: tiles.lowerBound + k, into: v + k * stride, edge: edge) }
        #if arch(x86_64)
        case .avx512:
            var shape = shape
            dae_winograd_input_transform_avx512(&shape, input, tiles.lowerBound, tiles.count, v, edge)
        case .avx2:
            var shape = shape
            dae_winograd_input_transform_avx2(&shape, input, tiles.lowerBound, tiles.count, v, edge)
        #else
        case .avx512, .avx2: preconditionFailure("\(transforms) Winograd transforms on a CPU that is not x86-64")
        #endif
        }
    }

    /// The output pixels of tiles `tiles` of the batch from `m` (`M[k, e, :]`,
    /// k = tile − tiles.lowerBound), plus `bias`, then ReLU when `relu`.
    func outputTransform(_ m: UnsafePointer<Float>, tiles: Range<Int>, into output: UnsafeMutablePointer<Float>,
                         bias: UnsafePointer<Float>?, relu: Bool, transforms: WinogradTransforms) {
        switch transforms {
        case .swift:
            let stride = Self.elements * outputChannels
            for k in 0..<tiles.count {
                outputTransform(m + k * stride, tile: tiles.lowerBound + k, into: output, bias: bias, relu: relu)
            }
        #if arch(x86_64)
        case .avx512:
            var shape = shape
            dae_winograd_output_transform_avx512(&shape, m, tiles.lowerBound, tiles.count, output, bias, relu ? 1 : 0)
        case .avx2:
            var shape = shape
            dae_winograd_output_transform_avx2(&shape, m, tiles.lowerBound, tiles.count, output, bias, relu ? 1 : 0)
        #else
        case .avx512, .avx2: preconditionFailure("\(transforms) Winograd transforms on a CPU that is not x86-64")
        #endif
        }
    }

    /// The image, tile row and tile column of tile `index` of the batch.
    @inline(__always)
    func position(of index: Int) -> (image: Int, row: Int, column: Int) {
        let (image, r) = index.quotientAndRemainder(dividingBy: tilesPerImage)
        let (row, column) = r.quotientAndRemainder(dividingBy: tileColumns)
        return (image, row, column)
    }

    /// Where tile `index`'s 2×2 output pixels are in an output-shaped buffer:
    /// the top-left pixel's offset, the offsets from it of the right, bottom
    /// and bottom-right ones, and whether the right column and bottom row lie
    /// inside the output (the output transform and its adjoint share this).
    func outputPixels(ofTile index: Int) -> (offset: Int, right: Int, below: Int, belowRight: Int, hasRight: Bool, hasBottom: Bool) {
        let g = geometry, cout = outputChannels
        let (image, row, column) = position(of: index)
        let (oy, ox) = (2 * row, 2 * column)
        let rowStride = g.outputWidth * cout
        return (((image * g.outputHeight + oy) * g.outputWidth + ox) * cout, cout, rowStride, rowStride + cout,
                ox + 1 < g.outputWidth, oy + 1 < g.outputHeight)
    }

    /// `V[e, :] = (Bᵀ d B)[e]` for one tile, with
    /// `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`,
    /// 8 channels at a time. A tile that reaches past the image is first
    /// copied, zero-padded, into `edge` (16·Cin floats).
    @inline(__always)
    private func inputTransform(_ input: UnsafePointer<Float>, tile index: Int, into destination: UnsafeMutablePointer<Float>,
                                edge: UnsafeMutablePointer<Float>) {
        let g = geometry, cin = g.inputChannels
        let (image, row, column) = position(of: index)
        let top = 2 * row - g.padTop, left = 2 * column - g.padLeft
        let source = input + image * g.inputCount
        var d: UnsafePointer<Float>
        var rowStride: Int
        if top >= 0 && top + 4 <= g.inputHeight && left >= 0 && left + 4 <= g.inputWidth {
            d = source + (top * g.inputWidth + left) * cin
            rowStride = g.inputWidth * cin
        } else {
            edge.update(repeating: 0, count: Self.elements * cin)
            let columns = max(0, -left)..<min(4, g.inputWidth - left)
            if !columns.isEmpty {
                for i in max(0, -top)..<max(max(0, -top), min(4, g.inputHeight - top)) {
                    (edge + (i * 4 + columns.lowerBound) * cin).update(
                        from: source + ((top + i) * g.inputWidth + left + columns.lowerBound) * cin,
                        count: columns.count * cin)
                }
            }
            d = UnsafePointer(edge)
            rowStride = 4 * cin
        }
        var c0 = 0
        while c0 < cin {
            let lanes = min(VectorKernels.width, cin - c0)
            Self.inputTransform(d + c0, rowStride: rowStride, columnStride: cin, into: destination + c0, lanes: lanes)
            c0 += VectorKernels.width
        }
    }

    /// Loads `lanes` (1…8) floats, the rest zero.
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, lanes: Int) -> VectorKernels.Vector {
        if lanes == VectorKernels.width { return VectorKernels.load(p) }
        var v = VectorKernels.Vector.zero
        for l in 0..<lanes { v[l] = p[l] }
        return v
    }

    /// Stores the first `lanes` (1…8) floats of `v`.
    @inline(__always)
    static func store(_ v: VectorKernels.Vector, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
        if lanes == VectorKernels.width { VectorKernels.store(v, p); return }
        for l in 0..<lanes { p[l] = v[l] }
    }

    /// The input transform of one 8-channel slice: `d` at the tile's top-left pixel.
    @inline(__always)
    private static func inputTransform(_ d: UnsafePointer<Float>, rowStride: Int, columnStride cs: Int,
                                       into v: UnsafeMutablePointer<Float>, lanes: Int) {
        typealias V = VectorKernels.Vector
        // Rows: r = d B, per row i of the tile.
        var r00: V, r01: V, r02: V, r03: V, r10: V, r11: V, r12: V, r13: V
        var r20: V, r21: V, r22: V, r23: V, r30: V, r31: V, r32: V, r33: V
        do {
            let p = d
            let (a, b, c, e) = (load(p, lanes: lanes), load(p + cs, lanes: lanes), load(p + 2 * cs, lanes: lanes), load(p + 3 * cs, lanes: lanes))
            (r00, r01, r02, r03) = (a - c, b + c, c - b, b - e)
        }
        do {
            let p = d + rowStride
            let (a, b, c, e) = (load(p, lanes: lanes), load(p + cs, lanes: lanes), load(p + 2 * cs, lanes: lanes), load(p + 3 * cs, lanes: lanes))
            (r10, r11, r12, r13) = (a - c, b + c, c - b, b - e)
        }
        do {
            let p = d + 2 * rowStride
            let (a, b, c, e) = (load(p, lanes: lanes), load(p + cs, lanes: lanes), load(p + 2 * cs, lanes: lanes), load(p + 3 * cs, lanes: lanes))
            (r20, r21, r22, r23) = (a - c, b + c, c - b, b - e)
        }
        do {
            let p = d + 3 * rowStride
            let (a, b, c, e) = (load(p, lanes: lanes), load(p + cs, lanes: lanes), load(p + 2 * cs, lanes: lanes), load(p + 3 * cs, lanes: lanes))
            (r30, r31, r32, r33) = (a - c, b + c, c - b, b - e)
        }
        // Columns: V = Bᵀ r; entry e = 4·a + b at v + e·cs.
        store(r00 - r20, v, lanes: lanes); store(r01 - r21, v + cs, lanes: lanes)
        store(r02 - r22, v + 2 * cs, lanes: lanes); store(r03 - r23, v + 3 * cs, lanes: lanes)
        store(r10 + r20, v + 4 * cs, lanes: lanes); store(r11 + r21, v + 5 * cs, lanes: lanes)
        store(r12 + r22, v + 6 * cs, lanes: lanes); store(r13 + r23, v + 7 * cs, lanes: lanes)
        store(r20 - r10, v + 8 * cs, lanes: lanes); store(r21 - r11, v + 9 * cs, lanes: lanes)
        store(r22 - r12, v + 10 * cs, lanes: lanes); store(r23 - r13, v + 11 * cs, lanes: lanes)
        store(r10 - r30, v + 12 * cs, lanes: lanes); store(r11 - r31, v + 13 * cs, lanes: lanes)
        store(r12 - r32, v + 14 * cs, lanes: lanes); store(r13 - r33, v + 15 * cs, lanes: lanes)
    }

    /// `y = Aᵀ M A + bias` (then ReLU) for one tile, with
    /// `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`, 8 filters at a time; pixels past
    /// the output's bottom or right edge are not written.
    @inline(__always)
    private func outputTransform(_ m: UnsafePointer<Float>, tile index: Int, into output: UnsafeMutablePointer<Float>,
                                 bias: UnsafePointer<Float>?, relu: Bool) {
        typealias V = VectorKernels.Vector
        let cout = outputChannels
        let pixels = outputPixels(ofTile: index)
        let (hasRight, hasBottom) = (pixels.hasRight, pixels.hasBottom)
        let y00 = output + pixels.offset
        let y01 = y00 + pixels.right, y10 = y00 + pixels.below, y11 = y00 + pixels.belowRight
        var f0 = 0
        while f0 < cout {
            let lanes = min(VectorKernels.width, cout - f0)
            let p = m + f0
            @inline(__always) func at(_ e: Int) -> V { Self.load(p + e * cout, lanes: lanes) }
            // s = Aᵀ M: two rows of four.
            let s00 = at(0) + at(4) + at(8), s01 = at(1) + at(5) + at(9)
            let s02 = at(2) + at(6) + at(10), s03 = at(3) + at(7) + at(11)
            let s10 = at(4) - at(8) - at(12), s11 = at(5) - at(9) - at(13)
            let s12 = at(6) - at(10) - at(14), s13 = at(7) - at(11) - at(15)
            let b = bias.map { Self.load($0 + f0, lanes: lanes) } ?? .zero
            var a00 = s00 + s01 + s02 + b, a01 = s01 - s02 - s03 + b
            var a10 = s10 + s11 + s12 + b, a11 = s11 - s12 - s13 + b
            if relu {
                a00.replace(with: 0, where: a00 .< 0); a01.replace(with: 0, where: a01 .< 0)
                a10.replace(with: 0, where: a10 .< 0); a11.replace(with: 0, where: a11 .< 0)
            }
            Self.store(a00, y00 + f0, lanes: lanes)
            if hasRight { Self.store(a01, y01 + f0, lanes: lanes) }
            if hasBottom {
                Self.store(a10, y10 + f0, lanes: lanes)
                if hasRight { Self.store(a11, y11 + f0, lanes: lanes) }
            }
            f0 += VectorKernels.width
        }
    }
}

/// The implementations of the Winograd pass's 16 GEMMs.
public enum WinogradKernels: String, Sendable, Equatable, CaseIterable {
    /// OpenBLAS sgemm, 16 calls per block: any CPU.
    case blas
    /// C, AVX2 + FMA, 4 tiles × 24 filters in registers (`Sources/CDirectKernels/winograd_kernels.c`);
    /// tested and selectable (``Conv2D/winogradKernels``), not chosen by default (see ``best``).
    case avx2
    /// C, AVX-512F, 8 tiles × 48 filters in registers; the same bits as `.avx2`.
    case avx512

    /// True on an x86-64 CPU (and OS) with AVX-512F.
    static let isAVX512Available: Bool = {
        #if arch(x86_64)
        return dae_winograd_avx512_available() != 0
        #else
        return false
        #endif
    }()

    /// Every implementation this CPU can run.
    public static var available: [WinogradKernels] {
        [.blas] + (DirectLoopKernels.isAVX2Available ? [.avx2] : []) + (isAVX512Available ? [.avx512] : [])
    }

    /// What this machine runs: AVX-512 where the CPU has it, else OpenBLAS.
    /// Measured on a Zen 4 EPYC (`dae-bench winograd --kernels blas,avx2,avx512`,
    /// Docs/Benchmarks.md): the AVX-512 kernels and OpenBLAS are within noise of
    /// each other, and AVX-512's bits do not depend on the block; the AVX2
    /// kernels (4 × 24 in 16 registers, bound by loads) ran 1.3–1.6× slower
    /// than OpenBLAS, so an AVX2-only CPU keeps OpenBLAS until measured otherwise.
    public static let best: WinogradKernels = isAVX512Available ? .avx512 : .blas
}

extension WinogradKernels {
    /// The `entries` GEMMs of a block of `tiles` tiles (16 for F(2×2, 3×3),
    /// 36 for F(4×4, 3×3)): for each entry `e`, `M[T, e, :] = V[T, e, :] · U[e]`,
    /// `[tiles × Cin] · [Cin × Cout]`, with `v` = `V[tiles, entries, Cin]`
    /// (row stride `entries·Cin`), `u` = `U[entries, Cin, Cout]` and `m` =
    /// `M[tiles, entries, Cout]` (row stride `entries·Cout`, overwritten).
    @inline(__always)
    func multiply(_ v: UnsafePointer<Float>, _ u: UnsafePointer<Float>, into m: UnsafeMutablePointer<Float>, tiles: Int,
                  inputChannels cin: Int, outputChannels cout: Int, entries: Int) {
        switch self {
        case .blas:
            for e in 0..<entries {
                BLAS.gemm(m: tiles, n: cout, k: cin, a: v + e * cin, lda: entries * cin,
                          b: u + e * cin * cout, ldb: cout, beta: 0, c: m + e * cout, ldc: entries * cout)
            }
        #if arch(x86_64)
        case .avx512: dae_winograd_gemm_avx512(v, u, m, tiles, cin, cout, entries)
        case .avx2: dae_winograd_gemm_avx2(v, u, m, tiles, cin, cout, entries)
        #else
        case .avx512, .avx2: preconditionFailure("\(self) Winograd kernels on a CPU that is not x86-64")
        #endif
        }
    }
}

/// The implementations of the Winograd pass's input and output transforms:
/// the same single additions and subtractions in each, so the same bits
/// (`WinogradTests.transformsAgree`).
public enum WinogradTransforms: String, Sendable, Equatable, CaseIterable {
    /// Swift SIMD, 8 channels at a time (SSE on x86-64 without flags): any CPU.
    case swift
    /// C, AVX2, 8 channels at a time (`Sources/CDirectKernels/winograd_transforms.c`).
    case avx2
    /// C, AVX-512F, 16 channels at a time.
    case avx512

    /// Every implementation this CPU can run.
    public static var available: [WinogradTransforms] {
        [.swift] + (DirectLoopKernels.isAVX2Available ? [.avx2] : []) + (WinogradKernels.isAVX512Available ? [.avx512] : [])
    }

    /// The widest this CPU runs: AVX-512, else AVX2, else Swift (measured in
    /// Docs/Benchmarks.md, "The Winograd transforms in C").
    public static let best: WinogradTransforms =
        WinogradKernels.isAVX512Available ? .avx512 : DirectLoopKernels.isAVX2Available ? .avx2 : .swift
}

extension Sequential {
    /// This network with every ``Conv2D`` that ``Conv2D/supportsWinograd``
    /// running its passes as Winograd F(2×2, 3×3) (`enabled`: the forward
    /// pass, and in training both gradients, ``Conv2D/withWinograd(_:)``) or
    /// as im2col + GEMM (`false`). Layers already in the asked form are kept as
    /// they are (their transformed kernels too), so calling this again costs
    /// nothing. Inference engines (``DataParallelEngine`` with
    /// `forInference: true`) use it by default; training does not, unless
    /// asked (`TrainingOptions.winogradConvolutions` in DAEKit: the results
    /// differ from the GEMM's in the last bits).
    public func withWinograd(_ enabled: Bool = true) -> Sequential {
        mappingConvolutions(where: { $0.supportsWinograd && $0.usesWinograd != enabled }) { conv, parameters in
            conv.withWinograd(enabled, weightGradient: Conv2D.winogradWeightGradients, parameters: parameters)
        }
    }

    /// True when some layer's forward pass runs as Winograd F(2×2, 3×3).
    public var usesWinograd: Bool { bareLayers.contains { ($0 as? Conv2D)?.usesWinograd == true } }
}

extension Conv2D {
    /// Tiles the Winograd forward pass transforms and multiplies at a time,
    /// for layers switched on after it is set (a benchmark's knob; the
    /// default was measured, Docs/Benchmarks.md). Not thread-safe: set it before running anything.
    public static var winogradBlockTiles: Int {
        get { WinogradConvolution.defaultBlockTiles }
        set { WinogradConvolution.defaultBlockTiles = max(1, newValue) }
    }

    /// The implementation of the 16 GEMMs for layers switched on after it is
    /// set (a benchmark's knob; ``WinogradKernels/best`` by default; one this
    /// CPU cannot run is ignored). Not thread-safe: set it before running anything.
    public static var winogradKernels: WinogradKernels {
        get { WinogradConvolution.defaultKernels }
        set { if WinogradKernels.available.contains(newValue) { WinogradConvolution.defaultKernels = newValue } }
    }

    /// The implementation of the input and output transforms for layers
    /// switched on after it is set (a benchmark's knob; ``WinogradTransforms/best``
    /// by default; one this CPU cannot run is ignored). Not thread-safe: set it before running anything.
    public static var winogradTransforms: WinogradTransforms {
        get { WinogradConvolution.defaultTransforms }
        set { if WinogradTransforms.available.contains(newValue) { WinogradConvolution.defaultTransforms = newValue } }
    }
}
