import DAELayers
import DAETestSupport
import Testing

/// Seeds fix everything: the random stream, the initial weights, and (for a
/// given worker count) the gradients.
@Suite("Determinism and initialisation")
struct DeterminismTests {
    @Test("SplitMix64 reproduces the reference implementation's stream")
    func splitMixKnownAnswers() {
        // Vigna's splitmix64.c, seeded with 1234567, and with 0.
        var rng = SplitMix64(seed: 1234567)
        #expect([rng.next(), rng.next(), rng.next()] == [6457827717110365317, 3203168211198807973, 9817491932198370423])
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
        // Negative seeds are taken bit for bit.
        #expect(SplitMix64(seed: -1).state == UInt64.max)
        // Uniforms lie in [0, 1).
        var u = SplitMix64(seed: 9)
        for _ in 0..<1000 { let x = u.nextUniform(); #expect(x >= 0 && x < 1) }
    }

    @Test("Box–Muller pairs: two independent standard normal samples; nextGaussian is the first")
    func gaussianPairs() {
        var pairs = SplitMix64(seed: 11), singles = SplitMix64(seed: 11)
        let n = 100_000
        var sum = (0.0, 0.0), squares = (0.0, 0.0), product = 0.0
        for i in 0..<n {
            let (a, b) = pairs.nextGaussianPair()
            if i < 100 { #expect(singles.nextGaussian() == a) }
            sum = (sum.0 + a, sum.1 + b)
            squares = (squares.0 + a * a, squares.1 + b * b)
            product += a * b
        }
        // Standard errors at n = 100 000: 0.003 for the means and the correlation, 0.0045 for the variances.
        #expect(abs(sum.0 / Double(n)) < 0.015 && abs(sum.1 / Double(n)) < 0.015)
        #expect(abs(squares.0 / Double(n) - 1) < 0.02 && abs(squares.1 / Double(n) - 1) < 0.02)
        #expect(abs(product / Double(n)) < 0.015)
    }

    /// The tutorial autoencoder's layers with Glorot weights drawn from `seed`.
    static func tutorialLayers(seed: UInt64) throws -> [any Layer] {
        var rng = SplitMix64(seed: seed)
        return [
            try Conv2D(name: "encoder.conv0", inputShape: [28, 28, 1], filters: 32, kernelSize: 3, stride: 2, activation: .relu, using: &rng),
            try Conv2D(name: "encoder.conv1", inputShape: [14, 14, 32], filters: 64, kernelSize: 3, stride: 2, activation: .relu, using: &rng),
            try Dense(name: "encoder.latent", inputFeatures: 3136, units: 16, using: &rng),
            try Dense(name: "decoder.dense", inputFeatures: 16, units: 3136, using: &rng),
            try Conv2DTranspose(name: "decoder.deconv0", inputShape: [7, 7, 64], filters: 64, kernelSize: 3, stride: 2, activation: .relu, using: &rng),
            try Conv2DTranspose(name: "decoder.deconv1", inputShape: [14, 14, 64], filters: 32, kernelSize: 3, stride: 2, activation: .relu, using: &rng),
            try Conv2DTranspose(name: "decoder.output", inputShape: [28, 28, 32], filters: 1, kernelSize: 3, stride: 1, activation: .sigmoid, using: &rng),
        ]
    }

    static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    @Test("the same seed gives bit-identical weights in every layer; another seed gives others")
    func seededWeights() throws {
        let a = try Self.tutorialLayers(seed: 42), b = try Self.tutorialLayers(seed: 42), c = try Self.tutorialLayers(seed: 43)
        var count = 0
        for ((la, lb), lc) in zip(zip(a, b), c) {
            for ((name, ta), (tb, tc)) in zip(la.namedParameters, zip(lb.parameters, lc.parameters)) {
                #expect(Self.bits(ta) == Self.bits(tb), "\(name) differs between two builds with seed 42")
                if name.hasSuffix(".kernel") {
                    #expect(Self.bits(ta) != Self.bits(tc), "\(name) is the same for seeds 42 and 43")
                    // Not just reordered or shifted: almost every element differs.
                    let same = zip(ta.scalars, tc.scalars).filter { $0 == $1 }.count
                    #expect(same <= ta.count / 100, "\(name): \(same) of \(ta.count) elements equal across seeds")
                } else {
                    #expect(tc.scalars.allSatisfy { $0 == 0 }, "\(name): biases start at zero")
                }
                count += 1
            }
        }
        #expect(count == 14)
        // Successive layers draw from the continuing stream: no two kernels are copies of each other's start.
        let starts = a.compactMap { $0.parameters.first?.scalars.prefix(4).map(\.bitPattern) }
        #expect(Set(starts).count == starts.count)
    }

    /// Kernel shapes of the tutorial model, in Keras layouts, with their Glorot fans.
    static let glorotShapes: [(shape: [Int], fanIn: Int, fanOut: Int)] = [
        ([3, 3, 1, 32], 9, 288), ([3, 3, 32, 64], 288, 576), ([3136, 16], 3136, 16),
        ([16, 3136], 16, 3136), ([3, 3, 64, 64], 576, 576), ([3, 3, 32, 1], 288, 9), ([5, 5, 3, 8], 75, 200),
    ]

    @Test("Glorot uniform: |w| ≤ sqrt(6/(fanIn + fanOut)), mean ≈ 0, variance ≈ limit²/3", arguments: glorotShapes)
    func glorotStatistics(_ c: (shape: [Int], fanIn: Int, fanOut: Int)) {
        var rng = SplitMix64(seed: UInt64(c.shape.reduce(0, +)))
        let w = Initializer.glorotUniform(shape: c.shape, using: &rng)
        #expect(w.shape == c.shape)
        let limit = (6 / Double(c.fanIn + c.fanOut)).squareRoot()
        let n = Double(w.count)
        let values = w.scalars.map(Double.init)
        #expect(Double(w.maxAbs) <= limit)
        #expect(Double(w.maxAbs) >= 0.95 * limit, "max |w| \(w.maxAbs) far below the limit \(limit): wrong fans?")
        let mean = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        // Five standard errors: mean ~ limit/sqrt(3n), variance ~ limit²·sqrt(4/45)/sqrt(n).
        #expect(abs(mean) <= 5 * limit / (3 * n).squareRoot(), "mean \(mean)")
        #expect(abs(variance - limit * limit / 3) <= 5 * limit * limit * (4.0 / 45).squareRoot() / n.squareRoot(),
                "variance \(variance), expected \(limit * limit / 3)")
    }

    @Test("the engine with the same worker count gives bit-identical gradients on every run")
    func engineIsDeterministic() throws {
        var rng = SplitMix64(seed: 5)
        let network = try Sequential([
            try Conv2D(name: "conv", inputShape: [12, 12, 1], filters: 8, kernelSize: 3, stride: 2, activation: .relu, using: &rng),
            try Reshape.flatten(inputShape: [6, 6, 8]),
            try Dense(name: "latent", inputFeatures: 288, units: 8, using: &rng),
            try Dense(name: "dense", inputFeatures: 8, units: 288, using: &rng),
            try Reshape(name: "reshape", inputShape: [288], outputShape: [6, 6, 8]),
            try Conv2DTranspose(name: "output", inputShape: [6, 6, 8], filters: 1, kernelSize: 3, stride: 2, activation: .sigmoid, using: &rng),
        ])
        let input = randomTensor(shape: [5, 12, 12, 1], seed: 6), target = randomTensor(shape: [5, 12, 12, 1], seed: 7)
        for workers in [1, 2] {
            let first = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
            let second = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
            #expect(first.loss.bitPattern == second.loss.bitPattern, "\(workers) workers: loss differs between runs")
            for name in network.parameterNames {
                let a = try #require(first.gradients[name]), b = try #require(second.gradients[name])
                #expect(Self.bits(a) == Self.bits(b), "\(workers) workers: \(name) differs between runs")
            }
        }
    }
}
