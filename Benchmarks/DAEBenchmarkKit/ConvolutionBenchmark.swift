import DAEKit

/// Measures ``ConvolutionReport``.
enum ConvolutionBenchmark {
    static func run(_ settings: BenchmarkSettings, peak: PeakReport?, log: (String) -> Void) throws -> ConvolutionReport {
        let cases = try ConvolutionCase.cases(of: settings.configuration)
        let batches = settings.convolutionBatches.sorted()
        var rng = SplitMix64(seed: settings.seed)
        var rows: [ConvolutionReport.Row] = []
        try withBLASThreads(settings.blasThreads) {
            for testCase in cases {
                let bench = try ConvolutionBench(testCase, capacity: batches.last ?? 1, using: &rng)
                for batch in batches {
                    log("conv: \(testCase.name) batch \(batch)")
                    rows += try bench.rows(batch: batch, settings: settings, peak: peak?.gflops(threads: settings.blasThreads))
                }
            }
        }
        // Present by batch, then layer (input side first), then pass.
        let layerOrder = Dictionary(uniqueKeysWithValues: cases.enumerated().map { ($1.name, $0) })
        let passOrder = Dictionary(uniqueKeysWithValues: ConvolutionReport.Pass.allCases.enumerated().map { ($1, $0) })
        func key(_ row: ConvolutionReport.Row) -> (Int, Int, Int) {
            (row.batch, layerOrder[row.layer] ?? 0, passOrder[row.pass] ?? 0)
        }
        rows.sort { key($0) < key($1) }
        return ConvolutionReport(rows: rows, blasThreads: settings.blasThreads,
                                 peakGflops: peak?.gflops(threads: settings.blasThreads), tolerance: settings.agreementTolerance)
    }
}

/// One convolution's data and buffers, sized for the largest batch, and
/// the measurements of its passes. Naive results are kept per batch, as a
/// larger batch reuses the naive timing of the capped batch.
private final class ConvolutionBench {
    typealias Pass = ConvolutionReport.Pass

    let testCase: ConvolutionCase
    let layer: any Layer
    let kernel: Tensor, bias: Tensor
    /// The input and the output gradient of the largest batch, as tensors (for the naive loops) and buffers.
    let xTensor: Tensor, dyTensor: Tensor
    let x: FloatBuffer, dy: FloatBuffer
    /// The layer's output, a scratch copy of ∂L/∂y (backward may overwrite it), ∂L/∂x, the workspace.
    let y: FloatBuffer, dyScratch: FloatBuffer, dx: FloatBuffer, workspace: FloatBuffer
    let kernelGradient: FloatBuffer, biasGradient: FloatBuffer
    private var naive: [Int: (timings: [Pass: Timing], checks: [Pass: (difference: Float, scale: Float)])] = [:]

    init(_ testCase: ConvolutionCase, capacity: Int, using rng: inout SplitMix64) throws {
        self.testCase = testCase
        kernel = SyntheticData.tensor(testCase.kernelShape, in: -0.5...0.5, using: &rng)
        bias = SyntheticData.tensor([testCase.outputShape[2]], in: -0.5...0.5, using: &rng)
        layer = try testCase.makeLayer(kernel: kernel, bias: bias)
        xTensor = SyntheticData.tensor([capacity] + testCase.inputShape, using: &rng)
        dyTensor = SyntheticData.tensor([capacity] + testCase.outputShape, using: &rng)
        x = FloatBuffer(xTensor.scalars)
        dy = FloatBuffer(dyTensor.scalars)
        y = FloatBuffer(count: capacity * testCase.outputCount)
        dyScratch = FloatBuffer(count: capacity * testCase.outputCount)
        dx = FloatBuffer(count: capacity * testCase.inputCount)
        workspace = FloatBuffer(count: layer.workspaceCount(batch: capacity))
        kernelGradient = FloatBuffer(count: kernel.count)
        biasGradient = FloatBuffer(count: bias.count)
    }

    // MARK: The library's passes

    func forward(_ batch: Int) {
        layer.forward(x.readOnly, into: y.pointer, batch: batch, workspace: workspace.pointer)
    }

    /// Runs forward (backward's precondition: the workspace holds its state)
    /// and restores ∂L/∂y and zero parameter gradients. Not timed.
    func prepareBackward(_ batch: Int) {
        forward(batch)
        dyScratch.copy(from: dy.readOnly, count: batch * testCase.outputCount)
        kernelGradient.zero()
        biasGradient.zero()
    }

    func backward(_ batch: Int, inputGradient: Bool) {
        layer.backward(input: x.readOnly, output: y.readOnly, outputGradient: dyScratch.pointer,
                       inputGradient: inputGradient ? dx.pointer : nil,
                       parameterGradients: [kernelGradient.pointer, biasGradient.pointer],
                       batch: batch, workspace: workspace.pointer)
    }

    // MARK: Measurement

    func rows(batch: Int, settings: BenchmarkSettings, peak: Double?) throws -> [ConvolutionReport.Row] {
        let naiveBatch = min(batch, settings.naiveBatchLimit)
        let reference = try naiveResults(batch: naiveBatch, settings: settings)
        let (reps, warm) = (settings.repetitions, settings.warmup)
        let forwardTime = measure(warmup: warm, repetitions: reps) { forward(batch) }
        let weightTime = measure(warmup: warm, repetitions: reps, setup: { prepareBackward(batch) }) {
            backward(batch, inputGradient: false)
        }
        let bothTime = measure(warmup: warm, repetitions: reps, setup: { prepareBackward(batch) }) {
            backward(batch, inputGradient: true)
        }
        let gemm: [Pass: Timing] = [.forward: forwardTime, .inputGradient: bothTime.subtracting(weightTime),
                                    .weightGradient: weightTime]
        let flops = testCase.flopsPerImage * Double(batch)
        let scale = Double(batch) / Double(naiveBatch)
        return Pass.allCases.map { pass in
            let naiveTime = reference.timings[pass]!.scaled(by: scale)
            let check = reference.checks[pass]!
            let gflops = gigaflops(flops, seconds: gemm[pass]!.median)
            return ConvolutionReport.Row(
                layer: testCase.name, kind: testCase.kind, shape: testCase.shapeDescription, batch: batch, pass: pass,
                naive: naiveTime, naiveBatch: naiveBatch, gemm: gemm[pass]!, gemmIsDerived: pass == .inputGradient,
                direct: testCase.runsDirect(pass),
                flops: flops, gemmGflops: gflops, naiveGflops: gigaflops(flops, seconds: naiveTime.median),
                speedup: gemm[pass]!.median > 0 ? naiveTime.median / gemm[pass]!.median : .nan, peakFraction: peak.map { gflops / $0 },
                maxAbsDifference: check.difference, referenceScale: check.scale,
                agrees: check.difference <= settings.agreementTolerance * max(1, check.scale))
        }
    }

    /// The naive loops' timings at `batch` and the largest differences
    /// between their results and the library's at that batch (memoised).
    private func naiveResults(batch: Int, settings: BenchmarkSettings) throws
        -> (timings: [Pass: Timing], checks: [Pass: (difference: Float, scale: Float)]) {
        if let known = naive[batch] { return known }
        let xs = xTensor.slice(0..<batch), dys = dyTensor.slice(0..<batch)
        // The library's results at this batch.
        forward(batch)
        let gemmForward = y.array(batch * testCase.outputCount)
        prepareBackward(batch)
        backward(batch, inputGradient: true)
        let gemmInput = dx.array(batch * testCase.inputCount)
        let gemmKernel = kernelGradient.array(kernel.count)
        // The naive results, compared.
        let checks: [Pass: (difference: Float, scale: Float)] = [
            .forward: maxAbsDifference(gemmForward, try testCase.naiveForward(xs, kernel: kernel, bias: bias).scalars),
            .inputGradient: maxAbsDifference(gemmInput, try testCase.naiveInputGradient(dys, kernel: kernel).scalars),
            .weightGradient: maxAbsDifference(gemmKernel, try testCase.naiveKernelGradient(xs, dys).scalars),
        ]
        // Cheap naive runs (under ~20 ms at ~1 GFLOP/s) get the full repetitions.
        let cheap = testCase.flopsPerImage * Double(batch) < 2e7
        let reps = cheap ? settings.repetitions : min(settings.naiveRepetitions, settings.repetitions)
        let warm = cheap ? settings.warmup : 0
        let timings: [Pass: Timing] = [
            .forward: try measure(warmup: warm, repetitions: reps) {
                _ = try testCase.naiveForward(xs, kernel: kernel, bias: bias)
            },
            .inputGradient: try measure(warmup: warm, repetitions: reps) {
                _ = try testCase.naiveInputGradient(dys, kernel: kernel)
            },
            .weightGradient: try measure(warmup: warm, repetitions: reps) {
                _ = try testCase.naiveKernelGradient(xs, dys)
            },
        ]
        naive[batch] = (timings, checks)
        return (timings, checks)
    }
}
