/// A chain of layers, each taking the previous one's output.
///
/// `Sequential` holds the weights (a value type: copying a network copies
/// its weights, lazily); the buffers a pass needs live in a ``Workspace``,
/// so one network can run on several threads, each with its own workspace.
public struct Sequential: Sendable {
    /// The layers, input first.
    public private(set) var layers: [any Layer]

    /// Chains `layers`; throws when one's output shape is not the next one's input shape.
    public init(_ layers: [any Layer]) throws {
        guard !layers.isEmpty else { throw DAEError.invalidConfiguration("a network needs at least one layer") }
        for (previous, next) in zip(layers, layers.dropFirst()) where previous.outputShape != next.inputShape {
            throw DAEError.invalidConfiguration(
                "\(previous.name) outputs \(previous.outputShape) but \(next.name) expects \(next.inputShape)")
        }
        var seen = Set<String>()
        for layer in layers where !seen.insert(layer.name).inserted {
            throw DAEError.invalidConfiguration("two layers are named \(layer.name)")
        }
        self.layers = layers
    }

    /// This network for examples of `shape`, as Caffe's `Net::Reshape()`:
    /// every layer resized to the output of the one before
    /// (``Layer/resized(toInput:)``), with the same weights, shared rather
    /// than copied, and Winograd kernels kept as transformed. A fully
    /// convolutional network takes any height and width this way; a network
    /// with a ``Dense`` layer takes only its own input shape.
    ///
    /// ```swift
    /// let tile = try network.resized(toInput: [300, 260, 4])   // cheap: no weight is copied
    /// ```
    public func resized(toInput shape: [Int]) throws -> Sequential {
        guard shape != inputShape else { return self }
        var resized: [any Layer] = []
        resized.reserveCapacity(layers.count)
        var next = shape
        for layer in layers {
            let layer = try layer.resized(toInput: next)
            resized.append(layer)
            next = layer.outputShape
        }
        return try Sequential(resized)
    }

    /// The shape of one input example.
    public var inputShape: [Int] { layers[0].inputShape }
    /// The shape of one output example.
    public var outputShape: [Int] { layers[layers.count - 1].outputShape }

    /// Every parameter's full name (`layer.kernel`, `layer.bias`), in layer order.
    public var parameterNames: [String] {
        layers.flatMap { layer in layer.parameterNames.map { "\(layer.name).\($0)" } }
    }

    /// Every parameter by its full name.
    public var parameters: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: layers.flatMap { $0.namedParameters })
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// Gives `body` in-place access to every parameter with its full name and
    /// its index in ``parameterNames``; shapes must not change.
    public mutating func updateParameters(_ body: (String, Int, inout Tensor) throws -> Void) rethrows {
        var flatIndex = 0
        for l in layers.indices {
            let prefix = layers[l].name
            let names = layers[l].parameterNames
            try layers[l].updateParameters { index, tensor in
                try body("\(prefix).\(names[index])", flatIndex + index, &tensor)
            }
            flatIndex += names.count
        }
    }

    /// Replaces the parameter `name`; throws when there is none or its shape differs.
    public mutating func setParameter(_ name: String, to value: Tensor) throws {
        var found = false
        try updateParameters { parameterName, _, tensor in
            guard parameterName == name else { return }
            try value.checkShape(tensor.shape, name)
            tensor = value
            found = true
        }
        guard found else { throw DAEError.invalidArgument("the network has no parameter named \(name)") }
    }

    /// Runs `range` of the layers on `batch` examples at `input` (the input
    /// of the range's first layer) and returns where the last one's output
    /// is, inside `workspace`.
    @discardableResult
    package func forward(_ input: UnsafePointer<Float>, batch: Int, workspace: Workspace,
                        layers range: Range<Int>? = nil) -> UnsafePointer<Float> {
        let range = range ?? layers.indices
        precondition(batch <= workspace.batchCapacity, "batch \(batch) exceeds the workspace's \(workspace.batchCapacity)")
        var current = input
        for i in range {
            // A pass-through layer's output buffer already holds its input, unless that input is the caller's.
            if !(layers[i].passesInputThrough && i > range.lowerBound) {
                layers[i].forward(current, into: workspace.outputs[i], batch: batch, workspace: workspace.scratch[i])
            }
            current = UnsafePointer(workspace.outputs[i])
        }
        return current
    }

    /// Back-propagates through every layer after ``forward(_:batch:workspace:layers:)``
    /// ran on all of them with the same `input` and `workspace`.
    ///
    /// The caller writes ∂L/∂output into `workspace.outputGradient` first.
    /// Parameter gradients are *added* to `workspace`'s gradient buffers
    /// (zero them with ``Workspace/zeroGradients()``); the first layer's input
    /// gradient is not computed.
    package func backward(input: UnsafePointer<Float>, batch: Int, workspace: Workspace) {
        var gradient = workspace.outputGradient
        var spare = workspace.spareGradient
        for i in layers.indices.reversed() {
            // ∂L/∂input of a pass-through layer is ∂L/∂output, already in place.
            if layers[i].passesInputThrough { continue }
            let layerInput = i == 0 ? input : UnsafePointer(workspace.outputs[i - 1])
            layers[i].backward(input: layerInput, output: workspace.outputs[i],
                               outputGradient: gradient, inputGradient: i == 0 ? nil : spare,
                               parameterGradients: workspace.parameterGradients[i],
                               batch: batch, workspace: workspace.scratch[i])
            swap(&gradient, &spare)
        }
    }
}
