import DAEKit

/// Measures ``ProfileReport``: runs real training steps of the model (the
/// library's own pass and Adam step, ``ProfiledStep``, with batch assembly
/// and noise) and times every part as it ends.
///
/// After every step, each of the step's GEMM shapes runs once alone
/// through ``BLAS/gemm`` and each layer's im2col / col2im once alone, so the
/// parts and the whole are sampled under the same machine load (the
/// machine is shared) and their medians compare.
enum ProfileBenchmark {
    static func run(_ settings: BenchmarkSettings, peak: PeakReport?, log: (String) -> Void) throws -> ProfileReport {
        try withBLASThreads(settings.blasThreads) {
            log("profile: training steps at batch \(settings.profileBatch)")
            let model = try DenoisingAutoencoder(configuration: settings.configuration, seed: settings.seed)
            let batch = settings.profileBatch
            let layers = model.network.layers
            var rng = SplitMix64(seed: settings.seed)
            let data = try SyntheticData.images(count: max(batch * 8, 256), shape: settings.configuration.inputShape,
                                                using: &rng)
            let stepper = ProfiledStep(model: model, batch: batch)
            let shapes = layers.enumerated().map { i, layer in
                GemmShape.shapes(of: layer, batch: batch, needsInputGradient: i > 0)
            }
            let buffers = GemmBuffers(for: shapes.flatMap { $0 }, using: &rng)
            let lowerings = layers.enumerated().map { i, layer in
                Lowering(of: layer, batch: batch, needsInputGradient: i > 0, using: &rng)
            }

            var laps: [[Double]] = [], gemmSamples: [[[Double]]] = shapes.map { $0.map { _ in [] } }
            var loweringSamples: [[(forward: Double, backward: Double)]] = layers.map { _ in [] }
            let steps = max(settings.repetitions * 5, 1), warmup = settings.warmup * 2
            for s in 0..<(warmup + steps) {
                var order = Array(0..<data.count)
                order.shuffle(using: &rng)
                let lap = stepper.step(data: data, indices: order.prefix(batch), seed: UInt64(s))
                let gemmTimes = shapes.map { $0.map { shape in Stopwatch.time { shape.run(buffers) } } }
                let loweringTimes = lowerings.map { ($0?.timeForward() ?? 0, $0?.timeBackward() ?? 0) }
                guard s >= warmup else { continue }
                laps.append(lap)
                for i in layers.indices {
                    for j in shapes[i].indices { gemmSamples[i][j].append(gemmTimes[i][j]) }
                    loweringSamples[i].append(loweringTimes[i])
                }
            }
            func timing(_ part: Int) -> Timing { Timing(samples: laps.map { $0[part] }) }

            var rows: [ProfileReport.LayerRow] = []
            var gemmRows: [ProfileReport.GemmRow] = []
            for (i, layer) in layers.enumerated() {
                var gemm = (forward: Timing.zero, backward: Timing.zero), flops = (forward: 0.0, backward: 0.0)
                for (j, shape) in shapes[i].enumerated() {
                    let t = Timing(samples: gemmSamples[i][j])
                    gemmRows.append(.init(shape: shape, timing: t, gflops: gigaflops(shape.flops, seconds: t.median)))
                    if shape.pass == "forward" {
                        gemm.forward = gemm.forward + t
                        flops.forward += shape.flops
                    } else {
                        gemm.backward = gemm.backward + t
                        flops.backward += shape.flops
                    }
                }
                rows.append(.init(name: layer.name, kind: layer.kind,
                                  forward: timing(ProfiledStep.forwardPart(i)),
                                  backward: timing(ProfiledStep.backwardPart(i, layers: layers.count)),
                                  forwardGemm: gemm.forward, backwardGemm: gemm.backward,
                                  forwardLowering: Timing(samples: loweringSamples[i].map(\.forward)),
                                  backwardLowering: Timing(samples: loweringSamples[i].map(\.backward)),
                                  forwardFlops: flops.forward, backwardFlops: flops.backward))
            }
            let segments = ProfiledStep.segmentNames.map { name, part in
                ProfileReport.Segment(name: name, timing: timing(part(layers.count)))
            }
            log("profile: the engine's forward + loss + backward")
            let engineTime = stepper.engineTiming(data: data, settings: settings)
            return ProfileReport(batch: batch, blasThreads: settings.blasThreads, steps: steps, layers: rows,
                                 segments: segments, gemms: gemmRows, step: Timing(samples: laps.map { $0.reduce(0, +) }),
                                 engineLossAndGradients: engineTime, peakGflops: peak?.gflops(threads: settings.blasThreads))
        }
    }
}
