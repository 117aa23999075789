import DAELayers
import DAETestSupport
import Testing

/// Activations and the loss at the edges of the float range.
@Suite("Activations and loss at extreme values")
struct ActivationTests {
    static func forward(_ activation: Activation, _ values: [Float]) -> [Float] {
        var v = values
        v.withUnsafeMutableBufferPointer { activation.forward($0.baseAddress!, count: $0.count) }
        return v
    }

    static func backward(_ activation: Activation, output: [Float], gradient: [Float]) -> [Float] {
        var g = gradient
        output.withUnsafeBufferPointer { y in
            g.withUnsafeMutableBufferPointer { activation.backward(output: y.baseAddress!, gradient: $0.baseAddress!, count: $0.count) }
        }
        return g
    }

    @Test("sigmoid is finite and in [0, 1] at ±1000 and ±infinity, and exactly 0 or 1 there")
    func sigmoidExtremes() {
        let y = Self.forward(.sigmoid, [-.infinity, -1000, -88.8, -20, 0, 20, 88.8, 1000, .infinity])
        #expect(y.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 }, "\(y)")
        #expect(y[0] == 0 && y[1] == 0)
        #expect(y[4] == 0.5)
        #expect(y[7] == 1 && y[8] == 1)
        // Monotone, as it must be.
        #expect(zip(y, y.dropFirst()).allSatisfy { $0 <= $1 })
        // Saturated outputs pass a zero gradient, not NaN.
        let g = Self.backward(.sigmoid, output: y, gradient: Array(repeating: 1, count: y.count))
        #expect(g.allSatisfy { $0.isFinite })
        #expect(g[0] == 0 && g[8] == 0 && g[4] == 0.25)
    }

    @Test("sigmoid through a layer: a huge pre-activation gives a finite output and gradient")
    func sigmoidLayerSaturates() throws {
        let dense = try Dense(name: "out", kernel: Tensor(shape: [1, 2], scalars: [1e30, -1e30]),
                              bias: Tensor(zeros: [2]), activation: .sigmoid)
        let x = Tensor(shape: [1, 1], scalars: [1])
        let y = try dense(x)
        #expect(y.scalars == [1, 0])
        var gradients: [Tensor] = []
        let dx = try dense.backward(input: x, outputGradient: Tensor(shape: [1, 2], scalars: [1, 1]), parameterGradients: &gradients)
        #expect(dx.scalars.allSatisfy { $0.isFinite })
        #expect(gradients.allSatisfy { $0.scalars.allSatisfy { $0.isFinite } })
    }

    @Test("ReLU clamps negatives and its derivative at exactly 0 is 0")
    func reluAtZero() {
        #expect(Self.forward(.relu, [-1000, -1e-30, 0, 1e-30, 3]) == [0, 0, 0, 1e-30, 3])
        #expect(Self.forward(.relu, [-.infinity, .infinity]) == [0, .infinity])
        #expect(Self.backward(.relu, output: [0, 0, 1e-30, 2], gradient: [5, -5, 5, 5]) == [0, 0, 5, 5])
    }

    @Test("ReLU through a layer: an output of exactly 0 passes no gradient to input, kernel or bias")
    func reluLayerAtZero() throws {
        // Pre-activations: x·0 + 0 = 0 exactly.
        let dense = try Dense(name: "relu", kernel: Tensor(zeros: [3, 2]), bias: Tensor(zeros: [2]), activation: .relu)
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(try dense(x).scalars == [0, 0, 0, 0])
        var gradients: [Tensor] = []
        let dx = try dense.backward(input: x, outputGradient: Tensor(repeating: 1, shape: [2, 2]), parameterGradients: &gradients)
        #expect(dx.scalars.allSatisfy { $0 == 0 })
        #expect(gradients[0].scalars.allSatisfy { $0 == 0 } && gradients[1].scalars.allSatisfy { $0 == 0 })
    }

    @Test("identity changes nothing, forward or backward")
    func identity() {
        let values: [Float] = [-.infinity, -1, 0, .leastNonzeroMagnitude, 7, .infinity]
        #expect(Self.forward(.identity, values) == values)
        #expect(Self.backward(.identity, output: values, gradient: [1, 2, 3, 4, 5, 6]) == [1, 2, 3, 4, 5, 6])
    }

    @Test("MSE is finite and exact at the edges: saturated outputs, and squares beyond Float's range")
    func meanSquaredErrorExtremes() throws {
        // Saturated sigmoid outputs against 0/1 targets.
        let p = Tensor(shape: [4], scalars: [0, 1, 0, 1]), t = Tensor(shape: [4], scalars: [0, 1, 1, 0])
        #expect(try MeanSquaredError.loss(p, t) == 0.5)
        #expect(try MeanSquaredError.gradient(p, t).scalars == [0, 0, -0.5, 0.5])
        // (2e19)² = 4e38 overflows Float, but the mean, 2e38, does not: the loss must be finite.
        let big = Tensor(shape: [2], scalars: [1e19, 0]), negative = Tensor(shape: [2], scalars: [-1e19, 0])
        let loss = try MeanSquaredError.loss(big, negative)
        #expect(loss.isFinite, "loss \(loss)")
        #expect(abs(Double(loss) - 2e38) <= 1e-6 * 2e38)
        #expect(try MeanSquaredError.gradient(big, negative).scalars.allSatisfy { $0.isFinite })
        // The pointer form the engine uses sums in Double too.
        var gradient = [Float](repeating: 0, count: 2)
        let sum = big.withUnsafeBufferPointer { b in
            negative.withUnsafeBufferPointer { n in
                gradient.withUnsafeMutableBufferPointer {
                    MeanSquaredError.sumOfSquaresAndGradient(prediction: b.baseAddress!, target: n.baseAddress!, count: 2,
                                                             normalizer: 2, gradient: $0.baseAddress!)
                }
            }
        }
        #expect(sum.isFinite && abs(sum - 4e38) <= 1e-6 * 4e38, "sum of squares \(sum)")
    }
}
