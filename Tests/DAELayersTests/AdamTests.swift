import DAELayers
import DAETestSupport
import Testing

/// Adam as Keras 3 applies it.
@Suite("Adam")
struct AdamTests {
    /// Runs Adam steps on one weight tensor named `w` and returns the weights after each step.
    static func steps(_ weights: [Float], gradients: [[Float]], settings: Adam.Settings = .init()) -> [[Float]] {
        var adam = Adam(settings: settings)
        var w = Tensor(shape: [weights.count], scalars: weights)
        var history: [[Float]] = []
        for g in gradients {
            let alpha = adam.beginStep()
            g.withUnsafeBufferPointer { adam.update("w", weights: &w, gradient: $0.baseAddress!, alpha: alpha) }
            history.append(w.scalars)
        }
        return history
    }

    @Test("two steps match a hand computation of Keras's update")
    func twoKerasSteps() {
        // Expected values from float64 numpy, Keras 3's rule with lr 1e-3, β1 0.9, β2 0.999, ε 1e-7:
        //
        //   w = [0.5, -1.0, 2.0, 0.25, 0.0]; m = v = 0
        //   for t, g in enumerate([[0.1, -0.2, 0.0, 1e-5, 3.0], [0.3, 0.1, 0.0, -2e-5, -3.0]], 1):
        //       m = m + (g - m) * (1 - b1)
        //       v = v + (g * g - v) * (1 - b2)
        //       alpha = lr * sqrt(1 - b2**t) / (1 - b1**t)
        //       w = w - alpha * m / (sqrt(v) + eps)
        //
        // The fourth weight has a tiny gradient, where ε's placement matters: with ε added to the
        // bias-corrected sqrt(v̂) instead (the paper, PyTorch) step 1 would give 0.24901, not 0.249240.
        let expected: [[Double]] = [
            [0.49900003162177664, -0.9990000158111383, 2.0, 0.24924025307335204, -0.0009999989459085576],
            [0.4980822596809747, -0.9987336825395067, 2.0, 0.24956099263934348, -0.0009473674062002341],
        ]
        let actual = Self.steps([0.5, -1, 2, 0.25, 0], gradients: [[0.1, -0.2, 0, 1e-5, 3], [0.3, 0.1, 0, -2e-5, -3]])
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            #expect(maxAbsDifference(a.map(Double.init), e) <= 5e-7, "step \(step + 1): \(a) vs \(e)")
        }
    }

    @Test("a zero gradient leaves the weight unchanged, bit for bit")
    func zeroGradient() {
        let weights: [Float] = [0.123456789, -3.5, 1e-30, 0, -0]
        let history = Self.steps(weights, gradients: Array(repeating: [0, 0, 0, 0, 0], count: 3))
        for after in history { #expect(after.map(\.bitPattern) == weights.map(\.bitPattern)) }
        // Also after non-zero steps: a later zero gradient keeps moving only by the momentum,
        // but an entry whose gradient was always zero stays put.
        let mixed = Self.steps([1, 1], gradients: [[0.5, 0], [0, 0]])
        #expect(mixed[1][1] == 1)
        #expect(mixed[1][0] < mixed[0][0], "momentum keeps moving a weight whose gradient became zero")
    }

    @Test("the step count and α follow t = 1, 2, …")
    func stepSize() {
        var adam = Adam()
        let a1 = adam.beginStep(), a2 = adam.beginStep()
        #expect(adam.step == 2)
        // α_t = lr·sqrt(1 − β2^t)/(1 − β1^t), with β1, β2 and lr as the Float values they are
        // (Keras keeps them in float32 too: 1 − Float(0.999) is 1.3e-5 away from 0.001). 1 − β2ᵗ
        // cancels in float32, so allow 3e-5; a wrong exponent or a missing correction is off by far more.
        let (lr, b1, b2) = (Double(Float(1e-3)), Double(Float(0.9)), Double(Float(0.999)))
        let expected1 = lr * (1 - b2).squareRoot() / (1 - b1)
        let expected2 = lr * (1 - b2 * b2).squareRoot() / (1 - b1 * b1)
        #expect(abs(Double(a1) - expected1) <= 3e-5 * expected1, "α1 \(a1) vs \(expected1)")
        #expect(abs(Double(a2) - expected2) <= 3e-5 * expected2, "α2 \(a2) vs \(expected2)")
    }

    @Test("resuming from saved state continues exactly as an uninterrupted run")
    func resume() throws {
        let g1: [Float] = [0.1, -0.2, 1e-5], g2: [Float] = [0.3, 0.1, -2e-5]
        var adam = Adam()
        var w = Tensor(shape: [3], scalars: [0.5, -1, 0.25])
        var alpha = adam.beginStep()
        g1.withUnsafeBufferPointer { adam.update("w", weights: &w, gradient: $0.baseAddress!, alpha: alpha) }
        var resumed = try Adam(settings: adam.settings, step: adam.step,
                               firstMoments: adam.firstMoments, secondMoments: adam.secondMoments)
        var w2 = w
        alpha = adam.beginStep()
        g2.withUnsafeBufferPointer { adam.update("w", weights: &w, gradient: $0.baseAddress!, alpha: alpha) }
        alpha = resumed.beginStep()
        g2.withUnsafeBufferPointer { resumed.update("w", weights: &w2, gradient: $0.baseAddress!, alpha: alpha) }
        #expect(w == w2)
        #expect(resumed == adam)
    }

    @Test("one step over a network's flat moments equals a step per parameter, bit for bit, and resumes from saved state")
    func flatStepMatchesPerParameterSteps() throws {
        var rng = SplitMix64(seed: 11)
        // Two layers (the second's names sort before the first's, so a resumed optimizer must re-lay its buffers out).
        var network = try Sequential([try Dense(name: "z.first", inputFeatures: 5, units: 4, using: &rng),
                                      try Dense(name: "a.second", inputFeatures: 4, units: 3, using: &rng)])
        var reference = network
        let names = network.parameterNames
        let counts = names.map { network.parameters[$0]!.count }
        var flat = Adam(), perParameter = Adam()
        var gradients = counts.map { count in (0..<count).map { _ in Float(rng.nextUniform()) - 0.5 } }
        for step in 0..<3 {
            if step == 2 {  // a checkpoint between steps: moments by name, sorted on the way back in
                flat = try Adam(settings: flat.settings, step: flat.step, firstMoments: flat.firstMoments,
                                secondMoments: flat.secondMoments)
            }
            let pointers = gradients.map { g in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: g.count)
                p.initialize(from: g, count: g.count)
                return p
            }
            defer { pointers.forEach { $0.deallocate() } }
            gradients.flatMap { $0 }.withUnsafeBufferPointer {
                flat.apply(to: &network, gradient: $0.baseAddress!, learningRateFactor: 0.5)
            }
            let alpha = perParameter.beginStep() * 0.5
            reference.updateParameters { name, index, tensor in
                perParameter.update(name, weights: &tensor, gradient: pointers[index], alpha: alpha)
            }
            gradients = gradients.map { $0.map { $0 * -0.7 + 0.01 } }
        }
        for name in names {
            #expect(network.parameters[name]!.scalars.map(\.bitPattern) == reference.parameters[name]!.scalars.map(\.bitPattern))
        }
        #expect(flat == perParameter)
        #expect(flat.step == 3)
        #expect(Set(flat.firstMoments.keys) == Set(names))
    }

    @Test("Keras's defaults validate")
    func defaultsValidate() throws {
        let defaults = Adam.Settings()
        #expect(defaults == Adam.Settings(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7))
        try defaults.validate()
        try Adam.Settings(beta1: 0, epsilon: 0).validate()   // the edges of the allowed ranges
    }

    /// Settings that must be refused, with a word the message must contain.
    static let badSettings: [(Adam.Settings, String)] = [
        (Adam.Settings(learningRate: 0), "learning rate"),
        (Adam.Settings(learningRate: -1e-3), "learning rate"),
        (Adam.Settings(learningRate: .nan), "learning rate"),
        (Adam.Settings(learningRate: .infinity), "learning rate"),
        (Adam.Settings(beta1: 1), "beta"),
        (Adam.Settings(beta1: -0.1), "beta"),
        (Adam.Settings(beta1: .nan), "beta"),
        (Adam.Settings(beta2: 1), "beta"),
        (Adam.Settings(beta2: 1.5), "beta"),
        (Adam.Settings(epsilon: -1e-7), "epsilon"),
        (Adam.Settings(epsilon: .nan), "epsilon"),
        (Adam.Settings(epsilon: .infinity), "epsilon"),
    ]

    @Test("invalid settings throw invalidConfiguration naming the setting", arguments: badSettings)
    func invalidSettings(_ bad: (Adam.Settings, String)) {
        let error = #expect(throws: DAEError.self) { try bad.0.validate() }
        guard case .invalidConfiguration(let reason)? = error else {
            Issue.record("expected invalidConfiguration, got \(String(describing: error))")
            return
        }
        #expect(reason.contains(bad.1), "\(reason)")
    }

    @Test("resumed state must be consistent")
    func invalidState() {
        let m = ["w": Tensor(zeros: [3])]
        #expect(throws: DAEError.self) { try Adam(settings: .init(), step: -1, firstMoments: m, secondMoments: m) }
        #expect(throws: DAEError.self) { try Adam(settings: .init(), step: 1, firstMoments: m, secondMoments: [:]) }
        #expect(throws: DAEError.self) {
            try Adam(settings: .init(), step: 1, firstMoments: m, secondMoments: ["w": Tensor(zeros: [4])])
        }
    }
}
