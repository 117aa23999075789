import Dispatch

/// Runs a ``Sequential`` network on both (all) cores by splitting each
/// batch into contiguous shards, one per worker, each worker with its own
/// ``Workspace`` and single-threaded OpenBLAS GEMMs.
///
/// Why this rather than OpenBLAS's own threads: on a 2-core machine,
/// OpenBLAS's two threads are often *slower* than one on this model's
/// mid-size and thin GEMM shapes (thread start-up per call), while one
/// OpenBLAS thread per worker scales (figures in Docs/Benchmarks.md). Workers' gradients
/// are summed in worker order after every step, so results are
/// deterministic for a given worker count (a different count changes the
/// order of sums, hence the last bits).
package final class DataParallelEngine {
    /// The number of workers (threads) a batch is split across.
    package let workers: Int
    /// The largest batch one call may pass.
    package let batchCapacity: Int
    private let workspaces: [Workspace]
    /// Whether ``predict(network:input:batch:output:layers:)`` runs the
    /// stride-1 3×3 convolutions as Winograd F(2×2, 3×3) (``Sequential/withWinograd(_:)``):
    /// by default in an inference engine, never in a training one.
    package let usesWinograd: Bool

    /// Allocates one workspace per worker for batches of up to `batchCapacity`
    /// (inference-only workspaces when `forInference`: then only
    /// ``predict(network:input:batch:output:layers:)`` may be called).
    /// `winograd` (default: `forInference`) makes `predict` run the network's
    /// stride-1 3×3 convolutions as Winograd F(2×2, 3×3); training passes
    /// (``lossAndGradients(network:input:target:batch:weights:prepareShard:)``) run
    /// the network as given: to train with Winograd, pass a network converted
    /// with ``Sequential/withWinograd(_:)`` (and build the engine from it, so
    /// that its workspaces hold no patch matrices).
    ///
    /// Sets OpenBLAS to one thread, whatever the worker count: idle OpenBLAS
    /// threads spin and would steal the workers' cores, and with one worker
    /// OpenBLAS's default thread count follows the CPU affinity, which would
    /// make results depend on the cores the process may run on (its threads
    /// split the sums differently) instead of only on the seed and `workers`.
    package init(network: Sequential, batchCapacity: Int, workers: Int, forInference: Bool = false, winograd: Bool? = nil) {
        precondition(batchCapacity > 0 && workers > 0, "engine needs a positive batch capacity and worker count")
        let workers = min(workers, batchCapacity)
        self.workers = workers
        self.batchCapacity = batchCapacity
        usesWinograd = winograd ?? forInference
        let network = usesWinograd ? network.withWinograd() : network
        let shardCapacity = (batchCapacity + workers - 1) / workers
        workspaces = (0..<workers).map { _ in Workspace(network: network, batchCapacity: shardCapacity, forInference: forInference) }
        BLAS.threads = 1
    }

    /// The contiguous, near-equal shards of a batch of `batch` examples (none empty).
    package func shards(of batch: Int) -> [Range<Int>] {
        let used = min(workers, batch)
        return (0..<used).map { w in (w * batch / used)..<((w + 1) * batch / used) }
    }

    /// Runs `work(worker, shard, workspace)` for every shard, in parallel.
    private func run(batch: Int, _ work: (Int, Range<Int>, Workspace) -> Void) {
        let shards = shards(of: batch)
        concurrentForEach(shards.count) { w in work(w, shards[w], workspaces[w]) }
    }

    /// The mean squared error of the network on `batch` examples and its
    /// gradients, summed over the workers into ``gradients``.
    ///
    /// - Parameters:
    ///   - network: the network whose loss and gradients are computed.
    ///   - input: `batch × network.inputShape` floats (the noisy images).
    ///   - target: `batch × network.outputShape` floats (the clean images).
    ///   - batch: the number of examples, at most ``batchCapacity``.
    ///   - weights: when given, `batch` weights: example `e`'s squared
    ///     errors count `weights[e]` times in the loss and its gradients
    ///     (``MeanSquaredError/weightedSumOfSquaresAndGradient(prediction:target:examples:elementsPerExample:weights:normalizer:gradient:)``).
    ///   - prepareShard: when given, each worker first calls it with its
    ///     shard's range of examples, to write that part of `input` and
    ///     `target` (batch assembly and noise then run in parallel too).
    /// - Returns: the loss: the squared errors (each times its example's weight, when
    ///   given) summed and divided by the batch's element count.
    package func lossAndGradients(network: Sequential, input: UnsafePointer<Float>,
                                 target: UnsafePointer<Float>, batch: Int, weights: [Float]? = nil,
                                 prepareShard: ((Range<Int>) -> Void)? = nil) -> Float {
        precondition(batch > 0 && batch <= batchCapacity, "batch \(batch) outside 1...\(batchCapacity)")
        precondition(!workspaces[0].isInferenceOnly, "an inference-only engine computes no gradients")
        precondition(weights == nil || weights!.count == batch, "\(weights?.count ?? 0) loss weights for a batch of \(batch)")
        let inCount = network.bareLayers[0].inputCount
        let outCount = network.bareLayers[network.bareLayers.count - 1].outputCount
        let normalizer = batch * outCount
        var partialSums = [Double](repeating: 0, count: workers)
        func pass(_ weights: UnsafePointer<Float>?) {
            partialSums.withUnsafeMutableBufferPointer { sums in
                let sums = sums
                run(batch: batch) { w, shard, workspace in
                    prepareShard?(shard)
                    sums[w] = network.sumOfSquaredErrorsAndGradients(
                        input: input + shard.lowerBound * inCount, target: target + shard.lowerBound * outCount,
                        batch: shard.count, normalizer: normalizer, weights: weights.map { $0 + shard.lowerBound },
                        workspace: workspace)
                }
            }
        }
        if let weights { weights.withUnsafeBufferPointer { pass($0.baseAddress!) } } else { pass(nil) }
        // Sum the workers' gradients into worker 0's, in worker order (deterministic).
        let total = workspaces[0].gradientStorage
        for w in 1..<shards(of: batch).count {
            let part = workspaces[w].gradientStorage
            VectorKernels.add(part.baseAddress!, into: total.baseAddress!, count: total.count)
        }
        return Float(partialSums.reduce(0, +) / Double(normalizer))
    }

    /// Runs `count` independent jobs on the workers and returns when all are
    /// done: each worker takes the next job not yet taken (`job(index,
    /// worker, workspace)`, with the worker's number and its workspace), so
    /// jobs of unequal cost (tiles of several shapes) keep every worker busy.
    /// A job's result must depend only on its index, never on the worker or
    /// on the order jobs run in: then the results are deterministic.
    /// `job` runs concurrently with itself; the caller makes what it writes disjoint.
    package func forEachJob(_ count: Int, _ job: (_ index: Int, _ worker: Int, _ workspace: Workspace) -> Void) {
        guard count > 0 else { return }
        let next = JobCounter()
        concurrentForEach(min(workers, count)) { w in
            while let index = next.take(below: count) { job(index, w, workspaces[w]) }
        }
    }

    /// The gradients of the last ``lossAndGradients(network:input:target:batch:weights:prepareShard:)``,
    /// one block in ``Sequential/parameterNames`` order.
    package var gradients: UnsafeBufferPointer<Float> { UnsafeBufferPointer(workspaces[0].gradientStorage) }

    /// Each layer's parameter gradients of the last call, as pointers into ``gradients``.
    package var parameterGradients: [[UnsafeMutablePointer<Float>]] { workspaces[0].parameterGradients }

    /// How many examples a worker pushes through the network at a time in
    /// ``predict(network:input:batch:output:layers:)``. Inference keeps no
    /// activations for a backward pass, so it can run in pieces small enough
    /// for each layer's output and patch matrix to stay in the core's cache:
    /// measured on the tutorial model, pieces of 4–16 examples run 1.2–1.4×
    /// faster than pieces of 32–128, and 8 is in the middle of that plateau.
    package static let inferencePiece = 8

    /// Runs `range` of the layers on `batch` examples (any number) and writes
    /// the results to `output`.
    ///
    /// The batch is split into one contiguous shard per worker, and each
    /// worker runs its shard ``inferencePiece`` examples (at most its
    /// workspace's capacity) at a time. Every example's result is the same
    /// whatever the batch, shard or piece it ran in (each GEMM row is one
    /// output pixel of one example).
    package func predict(network: Sequential, input: UnsafePointer<Float>, batch: Int,
                        output: UnsafeMutablePointer<Float>, layers range: Range<Int>? = nil) {
        let range = range ?? network.bareLayers.indices
        precondition(batch > 0, "predict needs at least one example")
        // Converts only what is not converted yet: callers that pass the same network
        // again should pass `network.withWinograd()` so the kernels are transformed once.
        let network = usesWinograd ? network.withWinograd() : network
        let inCount = network.bareLayers[range.lowerBound].inputCount
        let outCount = network.bareLayers[range.upperBound - 1].outputCount
        let output = output
        run(batch: batch) { _, shard, workspace in
            let piece = min(Self.inferencePiece, workspace.batchCapacity)
            for start in stride(from: shard.lowerBound, to: shard.upperBound, by: piece) {
                let count = min(piece, shard.upperBound - start)
                let result = network.forward(input + start * inCount, batch: count, workspace: workspace, layers: range)
                (output + start * outCount).update(from: result, count: count * outCount)
            }
        }
    }
}

/// The next job index, handed out once each under a lock (one take per job:
/// the lock costs microseconds against jobs of milliseconds).
private final class JobCounter: @unchecked Sendable {
    private var next = 0
    private let lock = DispatchSemaphore(value: 1)

    func take(below count: Int) -> Int? {
        lock.wait()
        defer { lock.signal() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}
