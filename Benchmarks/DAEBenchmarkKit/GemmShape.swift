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
    /// the layer itself reports them (``Layer/gemmPlan(batch:needsInputGradient:)``);
    /// `needsInputGradient` is false for the first layer of a network.
    public static func shapes(of layer: any Layer, batch: Int, needsInputGradient: Bool) -> [GemmShape] {
        layer.gemmPlan(batch: batch, needsInputGradient: needsInputGradient).map { plan in
            GemmShape(layer: layer.name, pass: plan.pass, role: plan.role, transposeA: plan.transposeA,
                      transposeB: plan.transposeB, m: plan.m, n: plan.n, k: plan.k, beta: plan.beta)
        }
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
