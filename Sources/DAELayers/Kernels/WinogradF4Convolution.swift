import CDirectKernels

/// The forward pass of a stride-1 3×3 convolution as Winograd's minimal
/// filtering algorithm F(4×4, 3×3): for inference, and for training with
/// ``Conv2D/withWinogradF4(_:gradients:f4WeightGradient:)`` (the input
/// gradient is a convolution of its own of this kind; the weight gradient
/// is in `WinogradF4Gradients.swift`).
///
/// The output is cut into 4×4 tiles; each reads a 6×6 input tile (rows
/// `4·ty − padTop …+5`, columns likewise, zero outside the image). With the
/// interpolation points (0, 1, −1, ½, −2, ∞) (Barabasz et al. 2020; the
/// matrices are in `include/dae_winograd_f4.h` and ``transformKernel(_:inputChannels:outputChannels:)``),
/// for every tile, input channel `c` and filter `f`
///
///     V[e, c]    = (Bᵀ d_c B)[e]                 input transform, e = 6·a + b ∈ 0..<36
///     U[e, c, f] = (G g_{c,f} Gᵀ)[e]             kernel transform, once per weights
///     M[e, f]    = Σ_c V[e, c] · U[e, c, f]      36 GEMMs
///     y_f        = Aᵀ M_f A + bias_f             output transform, 4×4 pixels
///
/// so 16 output pixels cost 36·Cin·Cout multiplications: 2.25 per pixel
/// where F(2×2, 3×3) needs 4 and the direct convolution 9 (1.78× fewer than
/// F(2×2)). The GEMMs are ``WinogradConvolution``'s register-blocked C
/// kernels with 36 entries (or OpenBLAS); the transforms are C
/// (`winograd_f4_transforms.c`) with AVX-512, AVX2 + FMA or portable code,
/// one body compiled three times: all give the same bits.
///
/// Error: the points ½ and −2 were measured 2–3× more accurate than
/// Lavin's ±2; against float64 the largest error is ~1–2·10⁻⁶ of the largest
/// output, 3–4× F(2×2)'s and far below one 16-bit level (1.5·10⁻⁵):
/// Docs/Benchmarks.md, "Winograd F(4×4, 3×3) for inference".
///
/// Rounding: unlike F(2×2)'s, `Bᵀ` and `Aᵀ` are not banded. Output pixel
/// (i, j) of a tile reads transformed entries that read input rows and
/// columns up to ``roundingRadius`` (3) pixels from it, beyond its 3×3
/// window (the extra terms cancel in exact arithmetic, not in rounding). So
/// a crop whose origin is a multiple of 4 gives the whole image's bits only
/// at pixels at least 3 pixels inside the crop's cut edges (1 for F(2×2));
/// how far exactly depends on the pixel's place in its tile (``reach``).
/// Tiled inference aligns its tile origins to 4 and takes a halo that
/// follows this reach layer by layer (`LayerSpec`
/// `exactnessRadius(winogradOutputTile:)` in DAEKit: 2 pixels a layer on average).
struct WinogradF4Convolution: WinogradPass, Sendable, Equatable {
    /// Output pixels per tile side, input pixels per tile side, and transformed entries per tile.
    static let outputTile = 4, inputTile = 6, elements = 36
    /// How far from an output pixel an input pixel can change its rounding:
    /// output 0 of a tile reads input pixels −1…3 around it, output 3 reads −3…1.
    static let roundingRadius = 3
    /// The reach by place in the tile: output `k` reads input pixels
    /// `k − left[k] … k + right[k]` (tile coordinates): transformed entries
    /// 0…4 for output 0, 1…4 for outputs 1 and 2, 1…5 for output 3 (`Aᵀ`'s
    /// rows), and entry `a` reads window pixels 0…4 (a = 0), 1…4, or 1…5 (a = 5) (`Bᵀ`'s rows).
    static let reach: (left: [Int], right: [Int]) = ([1, 1, 2, 3], [3, 2, 1, 1])

    /// Tiles per block: a block's `V` and `M` (36·(Cin + Cout) floats a tile,
    /// 13.8 kB at 48 channels) stay in the core's L2 cache between the transforms and the GEMMs.
    nonisolated(unsafe) static var defaultBlockTiles = 64

    /// The convolution's geometry: 3×3 kernel, stride 1, any padding.
    var geometry: ConvolutionGeometry
    /// Filters (Cout).
    let outputChannels: Int
    /// `U[36, Cin, Cout]`: `G g Gᵀ` for every input channel and filter, computed in Double and rounded once.
    let transformedKernel: [Float]
    /// Tiles transformed and multiplied together.
    let blockTiles: Int
    /// Threads the forward pass splits its blocks across (``Sequential/withWinogradThreads(_:)``).
    var threads = 1
    /// Which implementation runs the 36 GEMMs.
    let kernels: WinogradKernels
    /// Which implementation runs the transforms (`.swift` runs the portable C ones here).
    let transforms: WinogradTransforms

    /// Transforms `weights` (Keras's `[3, 3, Cin, Cout]`) once.
    init(geometry: ConvolutionGeometry, weights: UnsafePointer<Float>, outputChannels: Int,
         blockTiles: Int = WinogradF4Convolution.defaultBlockTiles, kernels: WinogradKernels = WinogradConvolution.defaultKernels,
         transforms: WinogradTransforms = WinogradConvolution.defaultTransforms) {
        precondition(geometry.kernelHeight == 3 && geometry.kernelWidth == 3 && geometry.stride == 1,
                     "Winograd F(4×4, 3×3) needs a 3×3 kernel at stride 1")
        self.geometry = geometry
        self.outputChannels = outputChannels
        self.blockTiles = max(1, blockTiles)
        self.kernels = kernels
        self.transforms = transforms
        transformedKernel = Self.transformKernel(weights, inputChannels: geometry.inputChannels, outputChannels: outputChannels)
    }

    /// `G` for the points (0, 1, −1, ½, −2, ∞), rows of three, flat: each row
    /// the point's powers divided by the factor that made `Bᵀ`'s row coprime integers
    /// (Benchmarks/winograd/winograd_f4_matrices.py derives and checks all three matrices in rationals).
    nonisolated(unsafe) static let gMatrix: UnsafeMutablePointer<Double> = {
        let g: [Double] = [1.0 / 2, 0, 0,
                           1.0 / 6, 1.0 / 6, 1.0 / 6,
                           1.0 / 6, -1.0 / 6, 1.0 / 6,
                           16.0 / 15, 8.0 / 15, 4.0 / 15,
                           1.0 / 30, -1.0 / 15, 2.0 / 15,
                           0, 0, 1.0 / 2]
        let p = UnsafeMutablePointer<Double>.allocate(capacity: g.count)
        p.initialize(from: g, count: g.count)
        return p
    }()

    /// `U[e, c, f] = (G g Gᵀ)[e]`: each entry the sum over `i`, then `j`, of
    /// `G[a, i] · g[i, j] · G[b, j]` in Double, rounded once.
    static func transformKernel(_ weights: UnsafePointer<Float>, inputChannels cin: Int, outputChannels cout: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: elements * cin * cout) { u, initialized in
            let u = u.baseAddress!
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 9) { k in
                let k = k.baseAddress!
                let g = UnsafePointer(Self.gMatrix)
                for c in 0..<cin {
                    for f in 0..<cout {
                        for t in 0..<9 { k[t] = Double(weights[t * cin * cout + c * cout + f]) }
                        for a in 0..<6 {
                            for b in 0..<6 {
                                var sum = 0.0
                                for i in 0..<3 { for j in 0..<3 { sum += g[3 * a + i] * k[3 * i + j] * g[3 * b + j] } }
                                u[(a * 6 + b) * cin * cout + c * cout + f] = Float(sum)
                            }
                        }
                    }
                }
            }
            initialized = elements * cin * cout
        }
    }

    /// `y = Aᵀ M A + bias` (then ReLU when `relu`) for tiles `tiles` of the
    /// batch from `m` (`tiles.count · 36 · Cout` floats), written to the
    /// tiles' output pixels in `output` (the batch's NHWC output).
    func outputTransform(_ m: UnsafePointer<Float>, tiles: Range<Int>, into output: UnsafeMutablePointer<Float>,
                         bias: UnsafePointer<Float>?, relu: Bool, transforms: WinogradTransforms) {
        var shape = shape
        let r: Int32 = relu ? 1 : 0
        switch transforms {
        case .swift: dae_winograd_f4_output_transform_portable(&shape, m, tiles.lowerBound, tiles.count, output, bias, r)
        #if arch(x86_64)
        case .avx512: dae_winograd_f4_output_transform_avx512(&shape, m, tiles.lowerBound, tiles.count, output, bias, r)
        case .avx2: dae_winograd_f4_output_transform_avx2(&shape, m, tiles.lowerBound, tiles.count, output, bias, r)
        #else
        case .avx512, .avx2: preconditionFailure("\(transforms) Winograd transforms on a CPU that is not x86-64")
        #endif
        }
    }
}

extension Sequential {
    /// This network with every ``Conv2D`` that ``Conv2D/supportsWinograd``
    /// running its forward pass as Winograd F(4×4, 3×3) (``Conv2D/withWinogradF4(_:gradients:f4WeightGradient:)``):
    /// for inference (tiled inference in DAEKit, whose halo allows for
    /// this pass's wider rounding dependence), or with `gradients` for
    /// training too (the input gradient as F(4×4), the weight gradient in
    /// F(4×4)'s Winograd domain with `f4WeightGradient`, else in F(2×2)'s).
    /// `false`: those layers back to im2col + GEMM.
    public func withWinogradF4(_ enabled: Bool = true, gradients: Bool = false, f4WeightGradient: Bool = false) -> Sequential {
        let f4WeightGradient = gradients && f4WeightGradient
        return mappingConvolutions(where: {
            $0.supportsWinograd && ($0.usesWinogradF4 != enabled
                || (enabled && ($0.usesWinogradF4Gradients != gradients || $0.usesWinogradF4WeightGradient != f4WeightGradient)))
        }) { conv, parameters in
            conv.withWinogradF4(enabled, gradients: gradients, f4WeightGradient: f4WeightGradient, parameters: parameters)
        }
    }

    /// True when some layer's forward pass runs as Winograd F(4×4, 3×3).
    public var usesWinogradF4: Bool { bareLayers.contains { ($0 as? Conv2D)?.usesWinogradF4 == true } }
}

extension Conv2D {
    /// Tiles the Winograd F(4×4, 3×3) forward pass transforms and multiplies
    /// at a time, for layers switched on after it is set (a benchmark's knob,
    /// `dae-bench winograd --f4-blocks`; 64 by default). Not thread-safe: set it before running anything.
    public static var winogradF4BlockTiles: Int {
        get { WinogradF4Convolution.defaultBlockTiles }
        set { WinogradF4Convolution.defaultBlockTiles = max(1, newValue) }
    }
}
