@testable import DAELayers
import DAETestSupport
import Foundation
import Testing

/// Winograd F(2×2, 3×3) (`WinogradConvolution.swift`) against the naive
/// loops and a float64 reference, its rounding independent of where a crop
/// starts (even origins), and the switch that keeps training on im2col + GEMM.
@Suite("Winograd F(2×2, 3×3) stride-1 3×3 convolutions")
struct WinogradTests {
    /// One convolution: `batch × h × w × inC` → `outC`, 3×3, stride 1.
    struct Case: Sendable, CustomTestStringConvertible {
        let h, w, inC, outC, batch: Int
        var padding: Padding = .same
        var testDescription: String { "\(batch)×\(h)×\(w)×\(inC) → \(outC) \(padding)" }
    }

    /// Odd sizes, 1×N and N×1, one tile, channels 1, 3, 47, 48, 96 in and
    /// out (every number of lanes in the last 8-wide block), batch 1 and 32,
    /// `valid` padding.
    static let cases: [Case] = [
        Case(h: 7, w: 9, inC: 1, outC: 5, batch: 1),
        Case(h: 1, w: 13, inC: 3, outC: 8, batch: 2),
        Case(h: 13, w: 1, inC: 47, outC: 9, batch: 1),
        Case(h: 2, w: 2, inC: 48, outC: 3, batch: 1),
        Case(h: 11, w: 10, inC: 48, outC: 48, batch: 2),
        Case(h: 5, w: 6, inC: 96, outC: 47, batch: 1),
        Case(h: 9, w: 7, inC: 47, outC: 96, batch: 1),
        Case(h: 6, w: 5, inC: 48, outC: 48, batch: 32),
        Case(h: 9, w: 8, inC: 3, outC: 1, batch: 1, padding: .valid),
        Case(h: 10, w: 7, inC: 48, outC: 33, batch: 2, padding: .valid),
        Case(h: 17, w: 19, inC: 64, outC: 64, batch: 1),
    ]

    /// `y = bias + conv(x)` summed in Double, rounded once: the float64 reference.
    static func reference(_ x: Tensor, kernel: Tensor, bias: Tensor, geometry g: ConvolutionGeometry) -> [Double] {
        let (n, f, c) = (x.shape[0], kernel.shape[3], g.inputChannels)
        let xs = x.scalars, ks = kernel.scalars
        var y = [Double](repeating: 0, count: n * g.outputPixels * f)
        for b in 0..<n {
            for o in 0..<g.outputHeight {
                for p in 0..<g.outputWidth {
                    for ch in 0..<f {
                        var sum = Double(bias.scalars[ch])
                        for i in 0..<3 {
                            let h = o + i - g.padTop
                            guard h >= 0 && h < g.inputHeight else { continue }
                            for j in 0..<3 {
                                let w = p + j - g.padLeft
                                guard w >= 0 && w < g.inputWidth else { continue }
                                for k in 0..<c {
                                    sum += Double(xs[((b * g.inputHeight + h) * g.inputWidth + w) * c + k])
                                        * Double(ks[((i * 3 + j) * c + k) * f + ch])
                                }
                            }
                        }
                        y[((b * g.outputHeight + o) * g.outputWidth + p) * f + ch] = sum
                    }
                }
            }
        }
        return y
    }

    /// The Winograd forward pass of `x` (no activation unless `relu`), the workspace guarded by NaN.
    static func winograd(_ x: Tensor, kernel: Tensor, bias: Tensor?, geometry g: ConvolutionGeometry,
                         blockTiles: Int = WinogradConvolution.defaultBlockTiles, relu: Bool = false,
                         kernels: WinogradKernels = .best, transforms: WinogradTransforms = .best) -> Tensor {
        let batch = x.shape[0], f = kernel.shape[3]
        let conv = kernel.withUnsafeBufferPointer { k in
            WinogradConvolution(geometry: g, weights: k.baseAddress!, outputChannels: f, blockTiles: blockTiles)
        }
        var y = Tensor(shape: [batch, g.outputHeight, g.outputWidth, f],
                       scalars: [Float](repeating: .nan, count: batch * g.outputPixels * f))
        var workspace = [Float](repeating: .nan, count: conv.workspaceCount(batch: batch))
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                workspace.withUnsafeMutableBufferPointer { wp in
                    if let bias {
                        bias.withUnsafeBufferPointer { bp in
                            conv.forward(xp.baseAddress!, into: yp.baseAddress!, batch: batch, workspace: wp.baseAddress!,
                                         bias: bp.baseAddress!, relu: relu, kernels: kernels, transforms: transforms)
                        }
                    } else {
                        conv.forward(xp.baseAddress!, into: yp.baseAddress!, batch: batch, workspace: wp.baseAddress!,
                                     bias: nil, relu: relu, kernels: kernels, transforms: transforms)
                    }
                }
            }
        }
        return y
    }

    /// Every case with every implementation of the 16 GEMMs this CPU runs.
    static let arguments: [(Case, WinogradKernels)] = cases.flatMap { c in WinogradKernels.available.map { (c, $0) } }

    /// Every GEMM implementation with the best transforms, and the best GEMMs with every other transform.
    static let kernelsAndTransforms: [(WinogradKernels, WinogradTransforms)] =
        WinogradKernels.available.map { ($0, WinogradTransforms.best) }
        + WinogradTransforms.available.filter { $0 != .best }.map { (WinogradKernels.best, $0) }

    /// The C transforms (AVX2, AVX-512) this CPU runs.
    static let cTransforms: [WinogradTransforms] = WinogradTransforms.available.filter { $0 != .swift }

    @Test("this CPU picks AVX-512 GEMM kernels where it has them, else OpenBLAS")
    func selection() {
        #expect(WinogradKernels.available.contains(.blas))
        #expect(WinogradKernels.best == (WinogradKernels.isAVX512Available ? .avx512 : .blas))
        #expect(WinogradKernels.available.contains(.avx2) == DirectLoopKernels.isAVX2Available)
        #if !arch(x86_64)
        #expect(!WinogradKernels.isAVX512Available)
        #endif
    }

    @Test("this CPU picks the widest transforms it runs: AVX-512, else AVX2, else Swift")
    func transformSelection() {
        #expect(WinogradTransforms.available.contains(.swift))
        #expect(WinogradTransforms.available.contains(.avx2) == DirectLoopKernels.isAVX2Available)
        #expect(WinogradTransforms.available.contains(.avx512) == WinogradKernels.isAVX512Available)
        #expect(WinogradTransforms.best == (WinogradKernels.isAVX512Available ? .avx512 : DirectLoopKernels.isAVX2Available ? .avx2 : .swift))
        #expect(WinogradConvolution.defaultTransforms == .best)
    }

    /// `V` and the output pixels of the C transforms against the Swift
    /// transforms, bit for bit, on the cases' shapes: in blocks of 1, 7 and
    /// all tiles; nothing written past a block; ReLU keeping −0 and NaN as Swift does.
    @Test("the C transforms give the Swift transforms' bits",
          .enabled(if: !WinogradTests.cTransforms.isEmpty, "this CPU has neither AVX2 nor AVX-512: only the Swift transforms run here"),
          arguments: cases, cTransforms)
    func transformsAgree(_ c: Case, transforms: WinogradTransforms) throws {
        let g = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: c.padding)
        let kernel = randomTensor(shape: [3, 3, c.inC, c.outC], seed: 91, range: -0.5...0.5)
        let conv = kernel.withUnsafeBufferPointer { k in
            WinogradConvolution(geometry: g, weights: k.baseAddress!, outputChannels: c.outC)
        }
        let total = c.batch * conv.tilesPerImage
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 92, range: -1...1)
        let guardFloats = 16 * max(c.inC, c.outC)
        func bits(_ a: [Float]) -> [UInt32] { a.map(\.bitPattern) }
        for block in [1, 7, total] {
            // Input transform: V of every tile, then NaN past the last block.
            func input(_ t: WinogradTransforms) -> [Float] {
                var v = [Float](repeating: .nan, count: total * 16 * c.inC + guardFloats)
                var edge = [Float](repeating: .nan, count: 16 * c.inC)
                x.withUnsafeBufferPointer { xp in
                    v.withUnsafeMutableBufferPointer { vp in
                        edge.withUnsafeMutableBufferPointer { ep in
                            for start in stride(from: 0, to: total, by: block) {
                                let tiles = start..<min(start + block, total)
                                conv.inputTransform(xp.baseAddress!, tiles: tiles, into: vp.baseAddress! + start * 16 * c.inC,
                                                    edge: ep.baseAddress!, transforms: t)
                            }
                        }
                    }
                }
                return v
            }
            let v = input(transforms)
            #expect(bits(v) == bits(input(.swift)), "\(transforms) input transform, blocks of \(block)")
            let untouched = v[(total * 16 * c.inC)...].allSatisfy { $0.isNaN }
            #expect(untouched, "\(transforms) wrote past the block")
            // Output transform from a random M with −0 and NaN planted, with and without bias and ReLU.
            var m = randomTensor(shape: [total * 16 * c.outC], seed: 93, range: -1...1).scalars
            for e in 0..<16 { m[e * c.outC] = -0.0 }        // tile 0, filter 0: every entry −0
            if total > 1 { m[16 * c.outC + 5 * c.outC] = .nan }  // tile 1, filter 0: a NaN
            var bias = randomTensor(shape: [c.outC], seed: 94, range: -0.5...0.5).scalars
            bias[0] = -0.0
            for (relu, useBias) in [(false, false), (false, true), (true, false), (true, true)] {
                func output(_ t: WinogradTransforms) -> [Float] {
                    var y = [Float](repeating: .nan, count: c.batch * g.outputPixels * c.outC)
                    m.withUnsafeBufferPointer { mp in
                        bias.withUnsafeBufferPointer { bp in
                            y.withUnsafeMutableBufferPointer { yp in
                                for start in stride(from: 0, to: total, by: block) {
                                    conv.outputTransform(mp.baseAddress! + start * 16 * c.outC, tiles: start..<min(start + block, total),
                                                         into: yp.baseAddress!, bias: useBias ? bp.baseAddress! : nil, relu: relu, transforms: t)
                                }
                            }
                        }
                    }
                    return y
                }
                let y = output(transforms)
                #expect(bits(y) == bits(output(.swift)), "\(transforms) output transform, blocks of \(block), relu \(relu), bias \(useBias)")
                let nans = y.filter { $0.isNaN }.count
                if total > 1 { #expect(nans >= 1, "the planted NaN came through") }
            }
        }
        // The whole forward pass, bias and ReLU, every GEMM implementation: the Swift transforms' bits.
        let bias = randomTensor(shape: [c.outC], seed: 95, range: -0.5...0.5)
        for kernels in WinogradKernels.available {
            for relu in [false, true] {
                let fast = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, blockTiles: 13, relu: relu, kernels: kernels, transforms: transforms)
                let swift = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, blockTiles: 13, relu: relu, kernels: kernels, transforms: .swift)
                #expect(bits(fast.scalars) == bits(swift.scalars), "\(transforms) transforms with \(kernels) GEMMs, relu \(relu)")
            }
        }
    }

    #if os(Linux) && arch(x86_64)
    @Test("the AVX-512 check agrees with the kernel's CPU flags")
    func selectionMatchesProcCPUInfo() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: ":").last!.split(separator: " ").map(String.init))
        #expect(WinogradKernels.isAVX512Available == flags.contains("avx512f"))
    }
    #endif

    @Test("AVX2 and AVX-512 kernels give the same bits (one chain of FMAs per entry)",
          .enabled(if: WinogradKernels.isAVX512Available && DirectLoopKernels.isAVX2Available,
                   "this CPU lacks AVX-512 or AVX2: the other kernel set runs on a CPU that has both"),
          arguments: cases)
    func wideKernelsAgree(_ c: Case) throws {
        let g = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: c.padding)
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 24, range: -1...1)
        let kernel = randomTensor(shape: [3, 3, c.inC, c.outC], seed: 25, range: -0.5...0.5)
        let bias = randomTensor(shape: [c.outC], seed: 26, range: -0.5...0.5)
        #expect(Self.winograd(x, kernel: kernel, bias: bias, geometry: g, blockTiles: 13, kernels: .avx2).scalars
                == Self.winograd(x, kernel: kernel, bias: bias, geometry: g, kernels: .avx512).scalars)
    }

    @Test("forward matches the naive loops and float64, every kernel and transform this CPU runs", arguments: arguments)
    func forward(_ c: Case, kernels: WinogradKernels) throws {
        let g = try ConvolutionGeometry(inputHeight: c.h, inputWidth: c.w, inputChannels: c.inC,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: c.padding)
        let x = randomTensor(shape: [c.batch, c.h, c.w, c.inC], seed: 21, range: -1...1)
        let kernel = randomTensor(shape: [3, 3, c.inC, c.outC], seed: 22, range: -0.5...0.5)
        let bias = randomTensor(shape: [c.outC], seed: 23, range: -0.5...0.5)
        let naive = try NaiveConvolution.conv2D(x, kernel: kernel, bias: bias, stride: 1, padding: c.padding)
        let exact = Self.reference(x, kernel: kernel, bias: bias, geometry: g)
        let naiveUnbiased = try NaiveConvolution.conv2D(x, kernel: kernel, bias: nil, stride: 1, padding: c.padding)
        // Every transform implementation this CPU runs (Swift, AVX2, AVX-512).
        for transforms in WinogradTransforms.available {
            let y = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, kernels: kernels, transforms: transforms)
            expectApproximatelyEqual(y, naive, relativeTolerance: 1e-5, "\(kernels)/\(transforms) Winograd against the naive loops")
            // Against float64: within a few units in the last place of the largest output.
            let error = relativeError(y.scalars.map(Double.init), exact)
            #expect(error < 4e-6, "\(kernels)/\(transforms): relative error \(error) against float64")
            // No bias: the same as starting from zero.
            let unbiased = Self.winograd(x, kernel: kernel, bias: nil, geometry: g, kernels: kernels, transforms: transforms)
            expectApproximatelyEqual(unbiased, naiveUnbiased, relativeTolerance: 1e-5, "\(kernels)/\(transforms) Winograd without bias")
        }
    }

    @Test("the blocks of tiles do not change the result; ReLU folds into the output transform",
          arguments: WinogradKernels.available)
    func blocksAndReLU(_ kernels: WinogradKernels) throws {
        let g = try ConvolutionGeometry(inputHeight: 15, inputWidth: 13, inputChannels: 48,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [3, 15, 13, 48], seed: 31, range: -1...1)
        let kernel = randomTensor(shape: [3, 3, 48, 40], seed: 32, range: -0.3...0.3)
        let bias = randomTensor(shape: [40], seed: 33, range: -0.5...0.5)
        let whole = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, blockTiles: 10_000, kernels: kernels)
        for block in [1, 7, 64] {
            let blocked = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, blockTiles: block, kernels: kernels)
            if kernels == .blas {
                // OpenBLAS may sum differently for another row count.
                expectApproximatelyEqual(blocked, whole, relativeTolerance: 1e-6, "blocks of \(block) tiles")
            } else {
                #expect(blocked.scalars == whole.scalars, "\(kernels), blocks of \(block) tiles")
            }
        }
        let relu = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, relu: true, kernels: kernels)
        #expect(relu.scalars == Self.winograd(x, kernel: kernel, bias: bias, geometry: g, kernels: kernels).scalars.map { max($0, 0) })
    }

    /// A crop at an even origin, as tiled inference cuts: every pixel whose
    /// 3×3 window lies inside the crop gets the whole image's bits.
    @Test("a crop at an even origin gives the whole image's bits inside it",
          arguments: [(2, 4), (4, 0), (0, 6), (6, 2)], kernelsAndTransforms)
    func evenCropsAreExact(_ origin: (Int, Int), path: (WinogradKernels, WinogradTransforms)) throws {
        let (kernels, transforms) = path
        let (h, w, cin, cout) = (22, 25, 48, 48)
        let whole = try ConvolutionGeometry(inputHeight: h, inputWidth: w, inputChannels: cin,
                                            kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [1, h, w, cin], seed: 41, range: -1...1)
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 42, range: -0.3...0.3)
        let bias = randomTensor(shape: [cout], seed: 43, range: -0.5...0.5)
        let full = Self.winograd(x, kernel: kernel, bias: bias, geometry: whole, kernels: kernels, transforms: transforms)
        let (top, left) = origin
        let (ch, cw) = (h - top - 3, w - left - 2)
        var crop = [Float](repeating: 0, count: ch * cw * cin)
        for r in 0..<ch { for q in 0..<cw { for k in 0..<cin { crop[(r * cw + q) * cin + k] = x.scalars[((top + r) * w + left + q) * cin + k] } } }
        let cropGeometry = try ConvolutionGeometry(inputHeight: ch, inputWidth: cw, inputChannels: cin,
                                                   kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let part = Self.winograd(Tensor(shape: [1, ch, cw, cin], scalars: crop), kernel: kernel, bias: bias, geometry: cropGeometry,
                                 kernels: kernels, transforms: transforms)
        var differing = 0
        for r in 1..<(ch - 1) {
            for q in 1..<(cw - 1) {
                for f in 0..<cout where part.scalars[(r * cw + q) * cout + f] != full.scalars[((top + r) * w + left + q) * cout + f] {
                    differing += 1
                }
            }
        }
        #expect(differing == 0, "\(kernels) GEMMs, \(transforms) transforms: \(differing) values differ from the whole image's")
    }

    @Test("Conv2D.withWinograd: forward as the GEMM's to rounding, backward as the GEMM's, kernel follows updates")
    func layerSwitch() throws {
        var rng = SplitMix64(seed: 5)
        let conv = try Conv2D(name: "c", inputShape: [9, 11, 48], filters: 24, kernelSize: 3, activation: .relu, using: &rng)
        #expect(conv.supportsWinograd && !conv.usesWinograd)
        let fast = conv.withWinograd()
        #expect(fast.usesWinograd && !fast.withWinograd(false).usesWinograd)
        let x = randomTensor(shape: [2, 9, 11, 48], seed: 51, range: -1...1)
        expectApproximatelyEqual(try fast(x), try conv(x), relativeTolerance: 1e-5, "layer forward")
        // Strided, 5×5 and few-channel convolutions keep their paths.
        #expect(!(try Conv2D(name: "s", inputShape: [8, 8, 48], filters: 8, kernelSize: 3, stride: 2, using: &rng)).supportsWinograd)
        #expect(!(try Conv2D(name: "k", inputShape: [8, 8, 48], filters: 8, kernelSize: 5, using: &rng)).supportsWinograd)
        #expect(!(try Conv2D(name: "d", inputShape: [8, 8, 1], filters: 8, kernelSize: 3, using: &rng)).withWinograd().usesWinograd)
        // Backward rebuilds the patch matrix: the same gradients as the GEMM path's, to rounding.
        let dy = randomTensor(shape: [2, 9, 11, 24], seed: 52, range: -1...1)
        var slowGradients: [Tensor] = [], fastGradients: [Tensor] = []
        let slowDX = try conv.backward(input: x, outputGradient: dy, parameterGradients: &slowGradients)
        let fastDX = try fast.backward(input: x, outputGradient: dy, parameterGradients: &fastGradients)
        expectApproximatelyEqual(fastDX, slowDX, relativeTolerance: 1e-4, "input gradient")
        for (a, b) in zip(fastGradients, slowGradients) { expectApproximatelyEqual(a, b, relativeTolerance: 1e-4, "parameter gradient") }
        // New weights are transformed again.
        var updated = fast
        updated.updateParameters { index, tensor in if index == 0 { tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * -2 }) } }
        var reference = conv
        reference.updateParameters { index, tensor in if index == 0 { tensor = Tensor(shape: tensor.shape, scalars: tensor.scalars.map { $0 * -2 }) } }
        #expect(updated.usesWinograd)
        expectApproximatelyEqual(try updated(x), try reference(x), relativeTolerance: 1e-5, "after an update")
    }

    /// Two stride-1 3×3 layers of `filters` channels after a 3-channel one.
    static func network(height: Int = 10, width: Int = 9, filters: Int = 48) throws -> Sequential {
        var rng = SplitMix64(seed: 9)
        return try Sequential([
            Conv2D(name: "a", inputShape: [height, width, 3], filters: filters, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "b", inputShape: [height, width, filters], filters: filters, kernelSize: 3, activation: .relu, using: &rng),
            Conv2D(name: "c", inputShape: [height, width, filters], filters: 3, kernelSize: 3, using: &rng),
        ])
    }

    @Test("training engines keep im2col + GEMM, inference engines use Winograd unless told")
    func engines() throws {
        let network = try Self.network()
        #expect(!network.usesWinograd)
        let converted = network.withWinograd()
        #expect(converted.usesWinograd && !converted.withWinograd(false).usesWinograd)
        // The 3-channel layer runs direct loops where the CPU has AVX2, else it is lowered and converted too.
        #expect(converted.layers.compactMap { ($0 as? Conv2D)?.usesWinograd } == [!ConvolutionGeometry.directLoopsUseAVX2, true, true])
        let x = randomTensor(shape: [4, 10, 9, 3], seed: 61)
        let training = DataParallelEngine(network: network, batchCapacity: 4, workers: 2)
        let inference = DataParallelEngine(network: network, batchCapacity: 4, workers: 2, forInference: true)
        let lowered = DataParallelEngine(network: network, batchCapacity: 4, workers: 2, forInference: true, winograd: false)
        #expect(!training.usesWinograd && inference.usesWinograd && !lowered.usesWinograd)
        func run(_ engine: DataParallelEngine, _ net: Sequential) -> [Float] {
            var y = [Float](repeating: 0, count: 4 * net.layers.last!.outputCount)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { engine.predict(network: net, input: xp.baseAddress!, batch: 4, output: $0.baseAddress!) } }
            return y
        }
        let gemm = run(training, network)
        #expect(run(lowered, network) == gemm, "an inference engine told winograd: false runs the GEMMs")
        let fast = run(inference, network)
        #expect(fast == run(inference, converted), "a converted network gives the same result")
        #expect(fast != gemm, "Winograd rounds differently (if this fails, it no longer runs)")
        expectApproximatelyEqual(Tensor(shape: [fast.count], scalars: fast), Tensor(shape: [gemm.count], scalars: gemm),
                                 relativeTolerance: 1e-5, "inference engine")
    }

    @Test("opted into training: finite differences agree with the gradients")
    func gradientCheck() throws {
        let network = try Self.network(height: 6, width: 5, filters: 12).withWinograd()
        #expect(network.usesWinograd)
        let x = randomTensor(shape: [2, 6, 5, 3], seed: 71)
        let target = randomTensor(shape: [2, 6, 5, 3], seed: 72, range: -0.2...0.2)
        // As in GradientCheckTests' network check: an early weight moves many ReLU inputs downstream.
        let checker = GradientChecker(step: 1e-3, maxElementsPerTensor: 40, maxSkippedFraction: 0.25)
        checker.expectPasses(try checker.check(network: network, input: x, target: target), "Winograd network")
    }

    /// The error table of Docs/Benchmarks.md: each path's largest error
    /// against float64, relative to the largest output, on a 32×32 image
    /// (inputs in [0, 1], Glorot-uniform kernels as the presets draw), printed.
    @Test("error against float64: Winograd within 2× of im2col + GEMM (or under 1e-6)", arguments: [1, 3, 47, 48, 64, 96])
    func errorTable(_ cin: Int) throws {
        let cout = cin == 64 ? 64 : cin == 96 ? 96 : 48
        let g = try ConvolutionGeometry(inputHeight: 32, inputWidth: 32, inputChannels: cin,
                                        kernelHeight: 3, kernelWidth: 3, stride: 1, padding: .same)
        let x = randomTensor(shape: [1, 32, 32, cin], seed: 81)
        let bound = Float((6.0 / Double(9 * (cin + cout))).squareRoot())
        let kernel = randomTensor(shape: [3, 3, cin, cout], seed: 82, range: -bound...bound)
        let bias = Tensor(zeros: [cout])
        let exact = Self.reference(x, kernel: kernel, bias: bias, geometry: g)
        let lowered = try Conv2D(name: "c", inputShape: [32, 32, cin], kernel: kernel, bias: bias, stride: 1,
                                 padding: .same, activation: .identity)(x)
        let gemmError = relativeError(lowered.scalars.map(Double.init), exact)
        var line = "error table: \(cin) → \(cout): im2col + GEMM\(g.usesDirectLoops ? " (direct loops)" : "") \(String(format: "%.1e", gemmError))"
        for kernels in WinogradKernels.available {
            let y = Self.winograd(x, kernel: kernel, bias: bias, geometry: g, kernels: kernels)
            let error = relativeError(y.scalars.map(Double.init), exact)
            line += ", Winograd \(kernels) \(String(format: "%.1e", error))"
            // Below 1e-6 (about 8 float32 ulps of the largest output) both paths are rounding noise, and the
            // GEMM's share depends on the CPU's OpenBLAS kernel, as in WinogradTrainingTests' error table.
            #expect(error <= max(2 * gemmError, 1e-6), "\(kernels): \(error) against the GEMM's \(gemmError)")
        }
        print(line)
    }
}
