import DAEKit

/// One matrix product of a layer's pass, as the library lowers it:
/// `C[m, n] (+)= op(A)[m, k] × op(B)[k, n]`.
public struct GemmShape: Sendable, Codable, Equatable {
    /// The layer's name.
    public var layer: String
    /// `forward` or `backward`.
    public var pass: String
    /// What the product computes, e.g. `y = cols·K`.
    public var role: String
    public var transposeA: Bool
    public var transposeB: Bool
    public var m: Int
    public var n: Int
    public var k: Int
    /// 1 when the product accumulates into C (weight gradients), else 0.
    public var beta: Float

    /// `2·m·n·k`.
    public var flops: Double { gemmFlops(m: m, n: n, k: k) }

    /// e.g. `[1568, 9]ᵀ·[1568, 32]` style: `m×k · k×n`.
    public var dimensions: String { "\(m)×\(k) · \(k)×\(n)" }

    /// The GEMMs of `layer`'s forward and backward passes at `batch`, as
    /// ``Conv2D``, ``Conv2DTranspose`` and ``Dense`` issue them;
    /// `needsInputGradient` is false for the first layer of a network.
    public static func shapes(of layer: any Layer, batch: Int, needsInputGradient: Bool) -> [GemmShape] {
        func shape(_ pass: String, _ role: String, _ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int,
                   beta: Float = 0) -> GemmShape {
            GemmShape(layer: layer.name, pass: pass, role: role, transposeA: tA, transposeB: tB,
                      m: m, n: n, k: k, beta: beta)
        }
        var shapes: [GemmShape] = []
        // A convolution with few input channels runs direct loops instead of
        // GEMMs, except for a strided convolution's input gradient.
        if let conv = layer as? Conv2D {
            let g = conv.geometry, rows = batch * g.outputPixels, filters = conv.outputShape[2]
            if !g.usesDirectLoops {
                shapes.append(shape("forward", "y = cols·K", false, false, rows, filters, g.patchSize))
                shapes.append(shape("backward", "dK += colsᵀ·dy", true, false, g.patchSize, filters, rows, beta: 1))
            }
            if needsInputGradient && !g.usesDirectInputGradient {
                shapes.append(shape("backward", "dcols = dy·Kᵀ", false, true, rows, g.patchSize, filters))
            }
        } else if let deconv = layer as? Conv2DTranspose {
            let g = deconv.adjointGeometry, rows = batch * g.outputPixels, channels = deconv.inputShape[2]
            if !g.usesDirectInputGradient {
                shapes.append(shape("forward", "cols = x·Kᵀ", false, true, rows, g.patchSize, channels))
            }
            if !g.usesDirectLoops {
                shapes.append(shape("backward", "dK += cols(dy)ᵀ·x", true, false, g.patchSize, channels, rows, beta: 1))
                if needsInputGradient {
                    shapes.append(shape("backward", "dx = cols(dy)·K", false, false, rows, channels, g.patchSize))
                }
            }
        } else if let dense = layer as? Dense {
            let features = dense.inputShape[0], units = dense.outputShape[0]
            shapes.append(shape("forward", "y = x·K", false, false, batch, units, features))
            shapes.append(shape("backward", "dK += xᵀ·dy", true, false, features, units, batch, beta: 1))
            if needsInputGradient {
                shapes.append(shape("backward", "dx = dy·Kᵀ", false, true, batch, features, units))
            }
        }
        return shapes
    }

    /// Runs this product once through ``BLAS/gemm`` on `buffers` (large enough for it).
    func run(_ buffers: GemmBuffers) {
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                  a: buffers.a.readOnly, lda: transposeA ? m : k, b: buffers.b.readOnly, ldb: transposeB ? k : n,
                  beta: beta, c: buffers.c.pointer, ldc: n)
    }
}

/// Operand buffers for timing any of a set of GEMM shapes.
final class GemmBuffers {
    let a: FloatBuffer, b: FloatBuffer, c: FloatBuffer

    init(for shapes: [GemmShape], using rng: inout SplitMix64) {
        let aCount = shapes.map { $0.m * $0.k }.max() ?? 1
        let bCount = shapes.map { $0.k * $0.n }.max() ?? 1
        a = FloatBuffer(SyntheticData.floats(aCount, using: &rng))
        b = FloatBuffer(SyntheticData.floats(bCount, using: &rng))
        c = FloatBuffer(count: shapes.map { $0.m * $0.n }.max() ?? 1)
    }
}
