import DAELayers

/// Runs `network` on `input` (`[n] + inputShape`) through a ``DataParallelEngine``
/// with `workers` workers and returns the output `[n] + outputShape`.
public func enginePredict(network: Sequential, input: Tensor, workers: Int = 1) throws -> Tensor {
    try input.checkShape([input.shape.first ?? 0] + network.inputShape, "network input")
    let batch = input.shape[0]
    let engine = DataParallelEngine(network: network, batchCapacity: batch, workers: workers)
    var output = Tensor(zeros: [batch] + network.outputShape)
    input.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
            engine.predict(network: network, input: x.baseAddress!, batch: batch, output: y.baseAddress!)
        }
    }
    return output
}

/// The mean squared error of `network` on `input` against `target` and its
/// gradients by full parameter name, as a ``DataParallelEngine`` with
/// `workers` workers computes them.
///
/// The engine's one gradient block is cut into tensors in
/// ``Sequential/parameterNames`` order, each with its parameter's shape:
/// this is the mapping a trainer or a checkpoint writer needs too.
public func engineLossAndGradients(network: Sequential, input: Tensor, target: Tensor,
                                   workers: Int = 1) throws -> (loss: Float, gradients: [String: Tensor]) {
    let batch = input.shape.first ?? 0
    try input.checkShape([batch] + network.inputShape, "network input")
    try target.checkShape([batch] + network.outputShape, "network target")
    let engine = DataParallelEngine(network: network, batchCapacity: batch, workers: workers)
    let loss = input.withUnsafeBufferPointer { x in
        target.withUnsafeBufferPointer { t in
            engine.lossAndGradients(network: network, input: x.baseAddress!, target: t.baseAddress!, batch: batch)
        }
    }
    return (loss, gradientsByName(engine.gradients, network: network))
}

/// Cuts a gradient block laid out in ``Sequential/parameterNames`` order
/// (as ``DataParallelEngine/gradients`` is) into named tensors.
public func gradientsByName(_ block: UnsafeBufferPointer<Float>, network: Sequential) -> [String: Tensor] {
    network.tensors(of: block)
}
