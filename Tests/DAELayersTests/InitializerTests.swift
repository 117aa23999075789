import DAELayers
import Testing

@Suite("Kernel initializers")
struct InitializerTests {
    @Test("He uniform draws U(−√(6/fanIn), √(6/fanIn)) with variance 2/fanIn; Glorot stays Keras's")
    func heUniform() {
        var rng = SplitMix64(seed: 9)
        let kernel = Initializer.heUniform(shape: [3, 3, 48, 64], using: &rng)
        let limit = Float((6.0 / Double(3 * 3 * 48)).squareRoot())
        #expect(kernel.scalars.allSatisfy { abs($0) <= limit })
        let variance = kernel.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(kernel.count)
        #expect(abs(variance - 2.0 / 432) < 0.05 * 2.0 / 432)
        // The enum draws exactly what the functions draw, from the same generator state.
        var a = SplitMix64(seed: 3), b = SplitMix64(seed: 3)
        #expect(KernelInitializer.heUniform.kernel(shape: [2, 5], using: &a) == Initializer.heUniform(shape: [2, 5], using: &b))
        #expect(KernelInitializer.glorotUniform.kernel(shape: [2, 5], using: &a) == Initializer.glorotUniform(shape: [2, 5], using: &b))
        #expect(KernelInitializer(rawValue: "he_uniform") == .heUniform)
    }
}
