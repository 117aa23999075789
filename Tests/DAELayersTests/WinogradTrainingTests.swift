@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Winograd F(2×2, 3×3) in training (`WinogradGradients.swift`): the input
/// gradient (the `same` convolution of ∂L/∂y with the rotated, transposed
/// kernel) and the weight gradient in the Winograd domain, against the
/// naive loops and float64, for every GEMM kernel and transform this CPU
/// runs; bits across kernels and transforms, runs and worker counts; finite
/// differences on a network trained this way.
@Suite("Winograd F(2×2, 3×3) gradients (training)")
struct WinogradTrainingTests {
    typealias Case = WinogradTests.Case

    /// Odd sizes, 1×N and N×1, one tile, channels 5, 47, 48, 96 in and out
    /// (every lane count of the last vector), batch 1 and 32, and `valid`
    /// (whose input gradient stays im2col + GEMM).
    static let cases: [Case] = [
        Case(h: 7, w: 9, inC: 5, outC: 5, batch: 1),
        Case(h: 1, w: 13, inC: 48, outC: 47, batch: 2),
        Case(h: 13, w: 1, inC: 47, outC: 48, batch: 1),
        Case(h: 2, w: 2, inC: 48, outC: 3, batch: 1),
        Case(h: 11, w: 10, inC: 48, outC: 48, batch: 2),
        Case(h: 5, w: 6, inC: 96, outC: 47, batch: 1),
        Case(h: 9, w: 7, inC: 5, outC: 96, batch: 1),
        Case(h: 6, w: 5, inC: 48, outC: 48, batch: 32),
        Case(h: 3, w: 11, inC: 96, outC: 96, batch: 1),
        Case(h: 10, w: 7, inC: 48, outC: 33, batch: 2, padding: .valid),
        Case(h: 5, w: 9, inC: 5, outC: 48, batch: 32, padding: .valid),
    ]

    static let arguments: [(Case, WinogradKernels)] = cases.flatMap { c in WinogradKernels.available.map { (c, $0) } }

    static func geometry(_ c: Case) throws -> ConvolutionGeometry {
        try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                kernelHeight: 3, kernelWidth: 3, stride: 1, padding: c.padding)
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    // MARK: float64 references

    /// ∂L/∂x in Double: `dx[h, w, c] = Σ dy[o, p, f] · K[i, j, c, f]` over `h = o + i − padTop`, `w = p + j − padLeft`.
    static func referenceInputGradient(_ dy: Tensor, kernel: Tensor, geometry g: ConvolutionGeometry, batch: Int) -> [Double] {
        let (f, c) = (kernel.shape[3], g.inputChannels)
        let ds = dy.scalars, ks = kernel.scalars
        var dx = [Double](repeating: 0, count: batch * g.inputCount)
        for b in 0..<batch {
            for h in 0..<g.inputHeight {
                for w in 0..<g.inputWidth {
                    for ch in 0..<c {
                        var sum = 0.0
                        for i in 0..<3 {
                            let o = h - i + g.padTop
                            guard o >= 0 && o < g.outputHeight else { continue }
                            for j in 0..<3 {
                                let p = w - j + g.padLeft
                                guard p >= 0 && p < g.outputWidth else { continue }
                                for k in 0..<f {
                                    sum += Double(ds[((b * g.outputHeight + o) * g.outputWidth + p) * f + k])
                                        * Double(ks[((i * 3 + j) * c + ch) * f + k])
                                }
                            }
                        }
                        dx[((b * g.inputHeight + h) * g.inputWidth + w) * c + ch] = sum
                    }
                }
            }
        }
        return dx
    }

    /// ∂L/∂K in Double, `[3, 3, Cin, Cout]`.
    static func referenceWeightGradient(_ x: Tensor, _ dy: Tensor, geometry g: ConvolutionGeometry, outputChannels f: Int,
                                        batch: Int) -> [Double] {
        let c = g.inputChannels
        let xs = x.scalars, ds = dy.scalars
        var dk = [Double](repeating: 0, count: 9 * c * f)
        for b in 0..<batch {
            for o in 0..<g.outputHeight {
                for p in 0..<g.outputWidth {
                    let dyRow = ((b * g.outputHeight + o) * g.outputWidth + p) * f
                    for i in 0..<3 {
                        let h = o + i - g.padTop
                        guard h >= 0 && h < g.inputHeight else { continue }
                        for j in 0..<3 {
                            let w = p + j - g.padLeft
                            guard w >= 0 && w < g.inputWidth else { continue }
                            let xRow = ((b * g.inputHeight + h) * g.inputWidth + w) * c
                            for ch in 0..<c {
                                let xv = Double(xs[xRow + ch])
                                let base = ((i * 3 + j) * c + ch) * f
                                for k in 0..<f { dk[base + k] += xv * Double(ds[dyRow + k]) }
                            }
                        }
                    }
                }
            }
        }
        return dk
    }

    // MARK: The passes under test

    /// The Winograd pass of `kernel` on `g` with the given implementations.
    static func convolution(_ kernel: Tensor, geometry g: ConvolutionGeometry, blockTiles: Int = WinogradConvolution.defaultBlockTiles,
                            kernels: WinogradKernels, transforms: WinogradTransforms) -> WinogradConvolution {
        kernel.withUnsafeBufferPointer { k in
            WinogradConvolution(geometry: g, weights: k.baseAddress!, outputChannels: kernel.shape[3], blockTiles: blockTiles,
                                kernels: kernels, transforms: transforms)
        }
    }

    /// ∂L/∂x by the input gradient's Winograd convolution (nil unless `same`), its workspace guarded by NaN.
    static func inputGradient(_ dy: Tensor, kernel: Tensor, geometry g: ConvolutionGeometry, batch: Int,
                              blockTiles: Int = WinogradConvolution.defaultBlockTiles,
                              kernels: WinogradKernels, transforms: WinogradTransforms) -> Tensor? {
        guard let conv = convolution(kernel, geometry: g, blockTiles: blockTiles, kernels: kernels, transforms: transforms)
            .inputGradientConvolution() else { return nil }
        var dx = [Float](repeating: .nan, count: batch * g.inputCount)
        var workspace = [Float](repeating: .nan, count: conv.workspaceCount(batch: batch))
        dy.withUnsafeBufferPointer { d in
            dx.withUnsafeMutableBufferPointer { x in
                workspace.withUnsafeMutableBufferPointer { w in
                    conv.forward(d.baseAddress!, into: x.baseAddress!, batch: batch, workspace: w.baseAddress!, bias: nil, relu: false)
                }
            }
        }
        return Tensor(shape: [batch, g.inputHeight, g.inputWidth, g.inputChannels], scalars: dx)
    }

    /// `base + ∂L/∂K` by the Winograd weight gradient (F(2×2)'s, or with `f4`
    /// F(4×4)'s: `WinogradF4TrainingTests`), its workspace guarded by NaN.
    static func weightGradient(_ x: Tensor, _ dy: Tensor, kernel: Tensor, geometry g: ConvolutionGeometry, batch: Int,
                               base: [Float]? = nil, blockTiles: Int = WinogradConvolution.defaultBlockTiles, f4: Bool = false,
                               kernels: WinogradKernels, transforms: WinogradTransforms) -> Tensor {
        func run<W: WinogradPass>(_ conv: W) -> Tensor {
            var dk = base ?? [Float](repeating: 0, count: kernel.count)
            var workspace = [Float](repeating: .nan, count: conv.weightGradientWorkspaceCount(batch: batch))
            x.withUnsafeBufferPointer { xp in
                dy.withUnsafeBufferPointer { d in
                    dk.withUnsafeMutableBufferPointer { k in
                        workspace.withUnsafeMutableBufferPointer { w in
                            conv.accumulateWeightGradient(input: xp.baseAddress!, outputGradient: d.baseAddress!, into: k.baseAddress!,
                                                          batch: batch, workspace: w.baseAddress!)
                        }
                    }
                }
            }
            return Tensor(shape: kernel.shape, scalars: dk)
        }
        guard f4 else { return run(convolution(kernel, geometry: g, blockTiles: blockTiles, kernels: kernels, transforms: transforms)) }
        return run(kernel.withUnsafeBufferPointer {
            WinogradF4Convolution(geometry: g, weights: $0.baseAddress!, outputChannels: kernel.shape[3], blockTiles: blockTiles,
                                  kernels: kernels, transforms: transforms)
        })
    }

    /// Inputs, kernel and output gradient of a case (seeded by `seed`).
    static func data(_ c: Case, _ g: ConvolutionGeometry, seed: UInt64) -> (x: Tensor, kernel: Tensor, dy: Tensor) {
        (randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: seed, range: -1...1),
         randomTensor(shape: [3, 3, c.inC, c.outC], seed: seed + 1, range: -0.5...0.5),
         randomTensor(shape: [c.batch, g.outputHeight, g.outputWidth, c.outC], seed: seed + 2, range: -1...1))
    }

    // MARK: Tests

    @Test("input gradient matches the naive loops and float64, every kernel and transform this CPU runs", arguments: arguments)
    func inputGradient(_ c: Case, kernels: WinogradKernels) throws {
        let g = try Self.geometry(c)
        let (_, kernel, dy) = Self.data(c, g, seed: 101)
        let naive = try NaiveConvolution.conv2DInputGradient(dy, kernel: kernel, inputShape: [c.batch, c.h, c.w, c.inC],
                                                             stride: 1, padding: c.padding)
        let exact = Self.referenceInputGradient(dy, kernel: kernel, geometry: g, batch: c.batch)
        for transforms in WinogradTransforms.available {
            guard let dx = Self.inputGradient(dy, kernel: kernel, geometry: g, batch: c.batch, kernels: kernels, transforms: transforms) else {
                #expect(c.padding == .valid, "only a valid convolution keeps im2col + GEMM for its input gradient")
                return
            }
            expectApproximatelyEqual(dx, naive, relativeTolerance: 1e-5, "\(kernels)/\(transforms) input gradient against the naive loops")
            let error = relativeError(dx.scalars.map(Double.init), exact)
            #expect(error < 4e-6, "\(kernels)/\(transforms): input gradient's relative error \(error) against float64")
        }
    }

    @Test("weight gradient matches the naive loops and float64, every kernel and transform this CPU runs", arguments: arguments)
    func weightGradient(_ c: Case, kernels: WinogradKernels) throws {
        let g = try Self.geometry(c)
        let (x, kernel, dy) = Self.data(c, g, seed: 111)
        let naive = try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: (3, 3), stride: 1, padding: c.padding)
        let exact = Self.referenceWeightGradient(x, dy, geometry: g, outputChannels: c.outC, batch: c.batch)
        for transforms in WinogradTransforms.available {
            let dk = Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: 7, kernels: kernels,
                                         transforms: transforms)
            expectApproximatelyEqual(dk, naive, relativeTolerance: 1e-5, "\(kernels)/\(transforms) weight gradient against the naive loops")
            let error = relativeError(dk.scalars.map(Double.init), exact)
            #expect(error < 4e-6, "\(kernels)/\(transforms): weight gradient's relative error \(error) against float64")
        }
    }

    @Test("the weight gradient is added to the buffer: base + g, bit for bit", arguments: WinogradKernels.available)
    func weightGradientAccumulates(_ kernels: WinogradKernels) throws {
        let c = Case(h: 9, w: 8, inC: 47, outC: 13, batch: 3)
        let g = try Self.geometry(c)
        let (x, kernel, dy) = Self.data(c, g, seed: 121)
        let base = randomTensor(shape: kernel.shape, seed: 124, range: -2...2).scalars
        let alone = Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, kernels: kernels, transforms: .best)
        let added = Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, base: base, kernels: kernels, transforms: .best)
        #expect(Self.bits(added.scalars) == Self.bits(zip(base, alone.scalars).map { $0 + $1 }))
    }

    @Test("AVX2 and AVX-512 kernels give the same bits for both gradients",
          .enabled(if: WinogradKernels.isAVX512Available && DirectLoopKernels.isAVX2Available,
                   "this CPU lacks AVX-512 or AVX2: the other kernel set runs on a CPU that has both"),
          arguments: cases)
    func wideKernelsAgree(_ c: Case) throws {
        let g = try Self.geometry(c)
        let (x, kernel, dy) = Self.data(c, g, seed: 131)
        for block in [1, 13, 128] {
            let (a, b) = (Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: block, kernels: .avx2, transforms: .best),
                          Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: block, kernels: .avx512, transforms: .best))
            #expect(Self.bits(a.scalars) == Self.bits(b.scalars), "weight gradient, blocks of \(block)")
            let dx2 = Self.inputGradient(dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: block, kernels: .avx2, transforms: .best)
            let dx512 = Self.inputGradient(dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: block, kernels: .avx512, transforms: .best)
            #expect(dx2.map { Self.bits($0.scalars) } == dx512.map { Self.bits($0.scalars) }, "input gradient, blocks of \(block)")
        }
    }

    @Test("the C output-gradient transforms give the Swift transform's bits, and nothing past a block",
          .enabled(if: !WinogradTests.cTransforms.isEmpty, "this CPU has neither AVX2 nor AVX-512: only the Swift transforms run here"),
          arguments: cases, WinogradTests.cTransforms)
    func outputGradientTransformsAgree(_ c: Case, transforms: WinogradTransforms) throws {
        let g = try Self.geometry(c)
        let (x, kernel, dy) = Self.data(c, g, seed: 141)
        var planted = dy.scalars
        planted[0] = -0.0                                       // −0 and NaN go through as the Swift transform takes them
        if planted.count > c.outC { planted[c.outC] = .nan }
        let conv = Self.convolution(kernel, geometry: g, kernels: .best, transforms: .swift)
        let total = c.batch * conv.tilesPerImage, guardFloats = 16 * c.outC
        for block in [1, 7, total] {
            func transformed(_ t: WinogradTransforms) -> [Float] {
                var dm = [Float](repeating: .nan, count: total * 16 * c.outC + guardFloats)
                planted.withUnsafeBufferPointer { d in
                    dm.withUnsafeMutableBufferPointer { m in
                        for start in stride(from: 0, to: total, by: block) {
                            conv.outputGradientTransform(d.baseAddress!, tiles: start..<min(start + block, total),
                                                         into: m.baseAddress! + start * 16 * c.outC, transforms: t)
                        }
                    }
                }
                return dm
            }
            let fast = transformed(transforms)
            #expect(Self.bits(fast) == Self.bits(transformed(.swift)), "\(transforms), blocks of \(block)")
            let untouched = fast[(total * 16 * c.outC)...].allSatisfy { $0.isNaN }
            #expect(untouched, "\(transforms) wrote past the block")
        }
        // The whole weight gradient, every GEMM implementation: the Swift transforms' bits.
        for kernels in WinogradKernels.available {
            let a = Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: 13, kernels: kernels, transforms: transforms)
            let b = Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: c.batch, blockTiles: 13, kernels: kernels, transforms: .swift)
            #expect(Self.bits(a.scalars) == Self.bits(b.scalars), "\(transforms) transforms with \(kernels) GEMMs")
        }
    }

    /// The kernel transform as first written (one filter at a time): the
    /// bits the shipped models' inference was checked with.
    static func scalarTransform(_ weights: [Float], inputChannels cin: Int, outputChannels cout: Int) -> [Float] {
        let g: [Double] = [1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1]
        var u = [Float](repeating: 0, count: 16 * cin * cout)
        for c in 0..<cin {
            for f in 0..<cout {
                let k = (0..<9).map { Double(weights[($0 * cin + c) * cout + f]) }
                for a in 0..<4 {
                    for b in 0..<4 {
                        var sum = 0.0
                        for i in 0..<3 { for j in 0..<3 { sum += g[3 * a + i] * k[3 * i + j] * g[3 * b + j] } }
                        u[((a * 4 + b) * cin + c) * cout + f] = Float(sum)
                    }
                }
            }
        }
        return u
    }

    @Test("the kernel transform, 8 filters at a time, gives the one-filter transform's bits",
          arguments: [(1, 1), (3, 48), (48, 48), (47, 9), (5, 17), (96, 3)])
    func kernelTransformBits(_ channels: (Int, Int)) {
        let (cin, cout) = channels
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: UInt64(cin * 100 + cout), range: -1...1)
        let fast = kernel.withUnsafeBufferPointer { WinogradConvolution.transformKernel($0.baseAddress!, inputChannels: cin, outputChannels: cout) }
        #expect(Self.bits(fast) == Self.bits(Self.scalarTransform(kernel.scalars, inputChannels: cin, outputChannels: cout)))
    }

    @Test("the rotated kernel's transform is the permuted, transposed transform")
    func rotatedKernel() throws {
        let (cin, cout) = (5, 7)
        let g = try ConvolutionGeometry(inputHeight: 6, inputWidth: 6, inputChannels: cin, kernelHeight: 3, kernelWidth: 3,
                                        stride: 1, padding: .same)
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 151, range: -1...1)
        // K'[i, j, f, c] = K[2 − i, 2 − j, c, f], transformed directly in Double.
        var rotated = [Float](repeating: 0, count: kernel.count)
        for i in 0..<3 { for j in 0..<3 { for c in 0..<cin { for f in 0..<cout {
            rotated[((i * 3 + j) * cout + f) * cin + c] = kernel.scalars[(((2 - i) * 3 + (2 - j)) * cin + c) * cout + f]
        } } } }
        let direct = rotated.withUnsafeBufferPointer { WinogradConvolution.transformKernel($0.baseAddress!, inputChannels: cout, outputChannels: cin) }
        let permuted = try #require(Self.convolution(kernel, geometry: g, kernels: .best, transforms: .best).inputGradientConvolution())
        let difference = zip(direct, permuted.transformedKernel).map { abs($0 - $1) }.max() ?? .infinity
        #expect(difference <= 1e-7 * (direct.map(abs).max() ?? 1), "largest difference \(difference)")
        #expect(permuted.geometry.inputChannels == cout && permuted.outputChannels == cin)
    }

    @Test("a layer switched on runs both gradients as Winograd: the GEMM path's to rounding, less scratch")
    func layerBackward() throws {
        var rng = SplitMix64(seed: 161)
        for (padding, activation) in [(Padding.same, Activation.relu), (.valid, .identity), (.same, .sigmoid)] {
            let conv = try Conv2D(name: "c", inputShape: [9, 11, 48], filters: 40, kernelSize: 3, padding: padding,
                                  activation: activation, using: &rng)
            let fast = conv.withWinograd()
            #expect(fast.usesWinograd && fast.usesWinogradWeightGradient)
            #expect(fast.usesWinogradInputGradient == (padding == .same))
            #expect(!conv.usesWinogradInputGradient && !conv.usesWinogradWeightGradient)
            let x = randomTensor(shape: [3, 9, 11, 48], seed: 162, range: -1...1)
            let dy = randomTensor(shape: [3] + conv.outputShape, seed: 163, range: -1...1)
            var slowGradients: [Tensor] = [], fastGradients: [Tensor] = []
            let slowDX = try conv.backward(input: x, outputGradient: dy, parameterGradients: &slowGradients)
            let fastDX = try fast.backward(input: x, outputGradient: dy, parameterGradients: &fastGradients)
            expectApproximatelyEqual(fastDX, slowDX, relativeTolerance: 2e-5, "\(padding) input gradient")
            for (a, b) in zip(fastGradients, slowGradients) {
                expectApproximatelyEqual(a, b, relativeTolerance: 2e-5, "\(padding) parameter gradient")
            }
            if padding == .same {
                // No patch matrix: the training scratch of a built-in preset's layer is the Winograd blocks only.
                let layer = try Conv2D(name: "l", inputShape: [48, 48, 48], filters: 48, kernelSize: 3, activation: .relu, using: &rng)
                #expect(layer.withWinograd().workspaceCount(batch: 16) < layer.workspaceCount(batch: 16) / 10)
            }
        }
        // Asked for (the knob Conv2D.winogradWeightGradients off), the weight gradient stays im2col + GEMM.
        let conv = try Conv2D(name: "c", inputShape: [9, 11, 48], filters: 40, kernelSize: 3, activation: .relu, using: &rng)
            .withWinograd(true, weightGradient: false)
        #expect(conv.usesWinogradInputGradient && !conv.usesWinogradWeightGradient)
        let x = randomTensor(shape: [2, 9, 11, 48], seed: 164, range: -1...1), dy = randomTensor(shape: [2, 9, 11, 40], seed: 165)
        var lowered: [Tensor] = [], winograd: [Tensor] = []
        _ = try conv.withWinograd(false).backward(input: x, outputGradient: dy, parameterGradients: &lowered)
        _ = try conv.backward(input: x, outputGradient: dy, parameterGradients: &winograd)
        #expect(Self.bits(winograd[0].scalars) == Self.bits(lowered[0].scalars), "the same im2col + GEMM weight gradient")
        var updated = conv
        updated.updateParameters { _, _ in }
        #expect(updated.usesWinogradInputGradient && !updated.usesWinogradWeightGradient, "an update keeps the choice")
    }

    /// Two same and one valid stride-1 3×3 layers of 12 channels after a 3-channel one,
    /// switched to `path` (the F(4×4) ones: `WinogradF4TrainingTests`).
    static func network(_ path: WinogradTrainingPath = .f2) throws -> Sequential {
        var rng = SplitMix64(seed: 19)
        let network = try Sequential([
            Conv2D(name: "a", inputShape: [7, 6, 3], filters: 12, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "b", inputShape: [7, 6, 12], filters: 12, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "v", inputShape: [7, 6, 12], filters: 12, kernelSize: 3, padding: .valid, activation: .relu, using: &rng),
            Conv2D(name: "c", inputShape: [5, 4, 12], filters: 3, kernelSize: 3, using: &rng),
        ])
        return path.apply(to: network)
    }

    @Test("finite differences agree with the Winograd gradients of a network (1 and 2 workers; F(2×2), F(4×4) with either weight gradient)",
          arguments: [1, 2], WinogradTrainingPath.allCases)
    func gradientCheck(workers: Int, path: WinogradTrainingPath) throws {
        let network = try Self.network(path)
        #expect(network.layers.compactMap { ($0 as? Conv2D)?.usesWinogradWeightGradient }.filter { $0 }.count >= 3)
        #expect(network.layers.contains { ($0 as? Conv2D)?.usesWinogradF4Gradients == true } == path.isF4)
        #expect(network.layers.contains { ($0 as? Conv2D)?.usesWinogradF4WeightGradient == true } == (path == .f4WeightGradient))
        let x = randomTensor(shape: [3, 7, 6, 3], seed: 171)
        let target = randomTensor(shape: [3, 5, 4, 3], seed: 172, range: -0.2...0.2)
        let checker = GradientChecker(step: 1e-3, maxElementsPerTensor: 40, maxSkippedFraction: 0.25)
        checker.expectPasses(try checker.check(network: network, input: x, target: target, workers: workers),
                             "Winograd \(path) network, \(workers) workers")
    }

    @Test("the engine's Winograd gradients are the same bits on every run, for 1 and 2 workers (F(2×2) and both F(4×4) paths)",
          arguments: WinogradTrainingPath.allCases)
    func deterministic(path: WinogradTrainingPath) throws {
        var rng = SplitMix64(seed: 181)
        let plain = try Sequential([
            Conv2D(name: "a", inputShape: [14, 13, 4], filters: 48, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "b", inputShape: [14, 13, 48], filters: 48, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "c", inputShape: [14, 13, 48], filters: 3, kernelSize: 3, using: &rng),
        ])
        let network = path.apply(to: plain)
        let input = randomTensor(shape: [9, 14, 13, 4], seed: 182), target = randomTensor(shape: [9, 14, 13, 3], seed: 183)
        for workers in [1, 2] {
            let first = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
            let second = try engineLossAndGradients(network: network, input: input, target: target, workers: workers)
            #expect(first.loss.bitPattern == second.loss.bitPattern, "\(workers) workers: loss differs between runs")
            for name in network.parameterNames {
                let a = try #require(first.gradients[name]), b = try #require(second.gradients[name])
                #expect(Self.bits(a.scalars) == Self.bits(b.scalars), "\(workers) workers: \(name) differs between runs")
            }
        }
        // And close to the GEMM path's.
        let gemm = try engineLossAndGradients(network: plain, input: input, target: target, workers: 2)
        let fast = try engineLossAndGradients(network: network, input: input, target: target, workers: 2)
        for name in network.parameterNames {
            expectApproximatelyEqual(try #require(fast.gradients[name]), try #require(gemm.gradients[name]), relativeTolerance: 1e-4, name)
        }
    }

    /// The error table of Docs/Benchmarks.md ("Winograd in training"): each
    /// path's largest error against float64 relative to the largest value,
    /// for both gradients; `x` in [0, 1], Glorot-uniform kernels, `dy` in
    /// [−1, 1]; a 32×32 image, and a worker's shard of the built-in
    /// preset's training (16 patches of 48×48) at 48 channels. Printed.
    @Test("gradient errors against float64: Winograd within 2× of im2col + GEMM (or under 1e-6)",
          arguments: [(5, 48, 32, 1), (47, 48, 32, 1), (48, 48, 32, 1), (48, 3, 32, 1), (96, 96, 32, 1), (48, 48, 48, 16)])
    func errorTable(_ shape: (cin: Int, cout: Int, side: Int, batch: Int)) throws {
        let (cin, cout, side, batch) = shape
        let g = try ConvolutionGeometry(inputHeight: side, inputWidth: side, inputChannels: cin,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [batch, side, side, cin], seed: 191)
        let bound = Float((6.0 / Double(9 * (cin + cout))).squareRoot())
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 192, range: -bound...bound)
        let dy = randomTensor(shape: [batch, side, side, cout], seed: 193, range: -1...1)
        let exactDX = Self.referenceInputGradient(dy, kernel: kernel, geometry: g, batch: batch)
        let exactDK = Self.referenceWeightGradient(x, dy, geometry: g, outputChannels: cout, batch: batch)
        let layer = try Conv2D(name: "c", inputShape: [side, side, cin], kernel: kernel, bias: Tensor(zeros: [cout]), stride: 1,
                               padding: .same, activation: .identity)
        var gradients: [Tensor] = []
        let gemmDX = try layer.backward(input: x, outputGradient: dy, parameterGradients: &gradients)
        let gemm = (relativeError(gemmDX.scalars.map(Double.init), exactDX), relativeError(gradients[0].scalars.map(Double.init), exactDK))
        let format = { (e: Double) in String(format: "%.1e", e) }
        var line = "gradient error table: \(batch)×\(side)²×\(cin) → \(cout): im2col + GEMM dx \(format(gemm.0)) dW \(format(gemm.1))"
        for kernels in WinogradKernels.available {
            let dx = try #require(Self.inputGradient(dy, kernel: kernel, geometry: g, batch: batch, kernels: kernels, transforms: .best))
            let dk = Self.weightGradient(x, dy, kernel: kernel, geometry: g, batch: batch, kernels: kernels, transforms: .best)
            let errors = (relativeError(dx.scalars.map(Double.init), exactDX), relativeError(dk.scalars.map(Double.init), exactDK))
            line += "; Winograd \(kernels) dx \(format(errors.0)) dW \(format(errors.1))"
            // Below 1e-6 (about 8 float32 ulps of the largest value) both paths are rounding noise, and
            // the GEMM's share depends on the CPU's OpenBLAS kernel (2.3e-7 on one machine, 4.7e-7 on another).
            #expect(errors.0 <= max(2 * gemm.0, 1e-6), "\(kernels) input gradient: \(errors.0) against the GEMM's \(gemm.0)")
            #expect(errors.1 <= max(2 * gemm.1, 1e-6), "\(kernels) weight gradient: \(errors.1) against the GEMM's \(gemm.1)")
        }
        print(line)
    }
}
