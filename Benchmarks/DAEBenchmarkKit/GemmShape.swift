import DAEKit

/// One matrix product of a layer's pass, as the layer reports it
/// (``GemmPlan``: `C[m, n] (+)= op(A)[m, k] × op(B)[k, n]`), with the layer's
/// name; `shape.m`, `shape.role`, … read the plan's fields.
@dynamicMemberLookup
public struct GemmShape: Sendable, Codable, Equatable {
    /// The layer's name.
    public var layer: String
    /// The product.
    public var plan: GemmPlan

    public subscript<T>(dynamicMember field: KeyPath<GemmPlan, T>) -> T { plan[keyPath: field] }

    /// `2·m·n·k`.
    public var flops: Double { gemmFlops(m: plan.m, n: plan.n, k: plan.k) }

    /// e.g. `[1568, 9]ᵀ·[1568, 32]` style: `m×k · k×n`.
    public var dimensions: String { "\(plan.m)×\(plan.k) · \(plan.k)×\(plan.n)" }

    /// The GEMMs of `layer`'s forward and backward passes at `batch`, as
    /// the layer itself reports them (``Layer/gemmPlan(batch:needsInputGradient:)``);
    /// `needsInputGradient` is false for the first layer of a network.
    public static func shapes(of layer: any Layer, batch: Int, needsInputGradient: Bool) -> [GemmShape] {
        layer.gemmPlan(batch: batch, needsInputGradient: needsInputGradient).map { GemmShape(layer: layer.name, plan: $0) }
    }

    /// Runs this product once through ``BLAS/gemm`` on `buffers` (large enough for it).
    func run(_ buffers: GemmBuffers) {
        let (m, n, k) = (plan.m, plan.n, plan.k)
        BLAS.gemm(transposeA: plan.transposeA, transposeB: plan.transposeB, m: m, n: n, k: k,
                  a: buffers.a.readOnly, lda: plan.transposeA ? m : k, b: buffers.b.readOnly, ldb: plan.transposeB ? k : n,
                  beta: plan.beta, c: buffers.c.pointer, ldc: n)
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
