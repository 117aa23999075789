import DAELayers
import Testing

/// What a profiler asks a layer: which matrix products and which im2col /
/// col2im steps its passes run (the same predicates the passes use).
@Suite struct ExecutionPlanTests {
    @Test func aLoweredConvolutionReportsItsThreeGemms() throws {
        var rng = SplitMix64(seed: 1)
        let conv: any Layer = try Conv2D(name: "encoder.conv1", inputShape: [14, 14, 32], filters: 64, kernelSize: 3,
                                         stride: 2, padding: .same, activation: .relu, using: &rng)
        let plans = conv.gemmPlan(batch: 32, needsInputGradient: true)
        #expect(plans.map(\.role) == ["y = cols·K", "dK += colsᵀ·dy", "dcols = dy·Kᵀ"])
        #expect(plans.map { [$0.m, $0.n, $0.k] } == [[32 * 49, 64, 288], [288, 64, 32 * 49], [32 * 49, 288, 64]])
        #expect(plans.map(\.beta) == [0, 1, 0])
        let lowering = try #require(conv.loweringPlan(needsInputGradient: true))
        #expect(lowering.forward == .im2col && lowering.backward == .col2im)
        // The first layer of a network needs no input gradient.
        #expect(conv.gemmPlan(batch: 32, needsInputGradient: false).count == 2)
        #expect(conv.loweringPlan(needsInputGradient: false)?.backward == nil)
    }

    @Test func aOneChannelConvolutionRunsDirectLoopsAndNoGemm() throws {
        var rng = SplitMix64(seed: 1)
        let conv: any Layer = try Conv2D(name: "encoder.conv0", inputShape: [28, 28, 1], filters: 32, kernelSize: 3,
                                         stride: 2, padding: .same, activation: .relu, using: &rng)
        #expect(conv.gemmPlan(batch: 32, needsInputGradient: false).isEmpty)
        #expect(conv.loweringPlan(needsInputGradient: false)?.forward == nil)
    }

    @Test func denseAndReshapeReportTheirs() throws {
        var rng = SplitMix64(seed: 1)
        let dense: any Layer = try Dense(name: "encoder.latent", inputFeatures: 3136, units: 16, using: &rng)
        #expect(dense.gemmPlan(batch: 32, needsInputGradient: true).map { [$0.m, $0.n, $0.k] }
            == [[32, 16, 3136], [3136, 16, 32], [32, 3136, 16]])
        #expect(dense.loweringPlan(needsInputGradient: true) == nil)
        let flatten: any Layer = try Reshape.flatten(name: "encoder.flatten", inputShape: [7, 7, 64])
        #expect(flatten.gemmPlan(batch: 32, needsInputGradient: true).isEmpty)
    }
}
