/// A chain of layers, each taking the previous one's output.
///
/// `Sequential` holds the weights: every layer's parameters in one flat
/// buffer, in ``parameterNames`` order (a layer's kernel, then its bias,
/// layer after layer), the same order as the gradients of a ``Workspace``
/// and the moments of ``Adam``. The layers inside hold no weights: the
/// passes hand each layer a pointer to its slice of the buffer. A network
/// is a value: copying it copies its weights lazily (copy-on-write), and a
/// copy never sees the other's later updates. The buffers a pass needs live
/// in a ``Workspace``, so one network can run on several threads, each with
/// its own workspace.
public struct Sequential: Sendable {
    /// The layers as the network runs them, input first: holding no weights
    /// of their own (their weights are ``parameterStorage``'s slices at ``parameterOffsets``).
    package private(set) var bareLayers: [any Layer]
    /// Every parameter, flat, in ``parameterNames`` order.
    package private(set) var parameterStorage: [Float]
    /// Where each layer's parameters start in ``parameterStorage`` (one more
    /// entry than there are layers: the last is the total).
    package let parameterOffsets: [Int]

    /// The layers, input first, each holding its weights: a copy of the
    /// network's at the time of the call (building it copies every weight;
    /// the network's later updates do not reach it).
    public var layers: [any Layer] {
        bareLayers.indices.map { i in bareLayers[i].withParameters(Array(parameterStorage[parameterOffsets[i]..<parameterOffsets[i + 1]])) }
    }

    /// Chains `layers`, taking their weights into the network's buffer;
    /// throws when one's output shape is not the next one's input shape.
    public init(_ layers: [any Layer]) throws {
        let storage = layers.flatMap { $0.parameters.flatMap(\.scalars) }
        try self.init(bareLayers: layers.map { $0.withParameters([]) }, parameterStorage: storage)
    }

    /// Chains `bareLayers` (holding no weights) around `parameterStorage`, which must hold theirs in order.
    private init(bareLayers layers: [any Layer], parameterStorage: [Float]) throws {
        guard !layers.isEmpty else { throw DAEError.invalidConfiguration("a network needs at least one layer") }
        for (previous, next) in zip(layers, layers.dropFirst()) where previous.outputShape != next.inputShape {
            throw DAEError.invalidConfiguration(
                "\(previous.name) outputs \(previous.outputShape) but \(next.name) expects \(next.inputShape)")
        }
        var seen = Set<String>()
        for layer in layers where !seen.insert(layer.name).inserted {
            throw DAEError.invalidConfiguration("two layers are named \(layer.name)")
        }
        var offsets = [0]
        for layer in layers { offsets.append(offsets[offsets.count - 1] + layer.parameterCount) }
        precondition(offsets[layers.count] == parameterStorage.count,
                     "\(parameterStorage.count) weights for layers of \(offsets[layers.count]) parameters")
        self.bareLayers = layers
        self.parameterStorage = parameterStorage
        self.parameterOffsets = offsets
    }

    /// This network with `transform` applied to each layer (holding no
    /// weights; given its weights, flat) and the same weights, shared.
    package func mapLayers(_ transform: (any Layer, UnsafePointer<Float>) throws -> any Layer) throws -> Sequential {
        let layers = try withParameters { p in try bareLayers.indices.map { try transform(bareLayers[$0], p + parameterOffsets[$0]) } }
        return try Sequential(bareLayers: layers, parameterStorage: parameterStorage)
    }

    /// This network with every ``Conv2D`` for which `converts` holds replaced
    /// by `convert(layer, its weights)`; the network itself (nothing copied)
    /// when no layer converts. The Winograd switches use it.
    package func mappingConvolutions(where converts: (Conv2D) -> Bool,
                                     _ convert: (Conv2D, UnsafePointer<Float>) -> Conv2D) -> Sequential {
        guard bareLayers.contains(where: { ($0 as? Conv2D).map(converts) ?? false }),
              let network = try? mapLayers({ layer, parameters in
                  guard let conv = layer as? Conv2D, converts(conv) else { return layer }
                  return convert(conv, parameters)
              }) else { return self }
        return network
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
        resized.reserveCapacity(bareLayers.count)
        var next = shape
        for layer in bareLayers {
            let layer = try layer.resized(toInput: next)
            resized.append(layer)
            next = layer.outputShape
        }
        return try Sequential(bareLayers: resized, parameterStorage: parameterStorage)
    }

    /// The shape of one input example.
    public var inputShape: [Int] { bareLayers[0].inputShape }
    /// The shape of one output example.
    public var outputShape: [Int] { bareLayers[bareLayers.count - 1].outputShape }

    /// Every parameter's full name (`layer.kernel`, `layer.bias`), in layer order.
    public var parameterNames: [String] {
        bareLayers.flatMap { layer in layer.parameterNames.map { "\(layer.name).\($0)" } }
    }

    /// Every parameter by its full name (copies of the network's weights).
    public var parameters: [String: Tensor] { parameterStorage.withUnsafeBufferPointer { tensors(of: $0) } }

    /// `flat` (``parameterCount`` floats in ``parameterNames`` order: the
    /// weights, or gradients, or moments) cut into tensors by parameter name.
    package func tensors(of flat: UnsafeBufferPointer<Float>) -> [String: Tensor] {
        precondition(flat.count == parameterCount, "\(flat.count) floats for \(parameterCount) parameters")
        var tensors: [String: Tensor] = [:]
        forEachParameter { name, _, shape, range, _ in tensors[name] = Tensor(shape: shape, scalars: Array(flat[range])) }
        return tensors
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameterStorage.count }

    /// Calls `body` with every parameter's full name, its index in
    /// ``parameterNames``, its shape, its range in ``parameterStorage`` and
    /// its layer's index, in order.
    private func forEachParameter(_ body: (String, Int, [Int], Range<Int>, Int) throws -> Void) rethrows {
        var (index, offset) = (0, 0)
        for (l, layer) in bareLayers.enumerated() {
            for (name, shape) in zip(layer.parameterNames, layer.parameterShapes) {
                let count = Tensor.elementCount(of: shape)
                try body("\(layer.name).\(name)", index, shape, offset..<(offset + count), l)
                (index, offset) = (index + 1, offset + count)
            }
        }
    }

    /// Gives `body` in-place access to every parameter with its full name and
    /// its index in ``parameterNames``; shapes must not change. (Each
    /// parameter is a copy written back to the flat buffer: for a few
    /// changes; ``Adam`` updates the buffer in place.)
    public mutating func updateParameters(_ body: (String, Int, inout Tensor) throws -> Void) rethrows {
        defer { parametersDidChange() }
        try forEachParameter { name, index, shape, range, _ in
            var tensor = Tensor(shape: shape, scalars: Array(parameterStorage[range]))
            try body(name, index, &tensor)
            precondition(tensor.shape == shape, "parameter \(name) changed shape from \(shape) to \(tensor.shape)")
            parameterStorage.replaceSubrange(range, with: tensor.scalars)
        }
    }

    /// Replaces the parameter `name`; throws when there is none or its shape differs.
    public mutating func setParameter(_ name: String, to value: Tensor) throws {
        var found: (range: Range<Int>, layer: Int)?
        try forEachParameter { parameterName, _, shape, range, layer in
            guard parameterName == name else { return }
            try value.checkShape(shape, name)
            found = (range, layer)
        }
        guard let (range, layer) = found else { throw DAEError.invalidArgument("the network has no parameter named \(name)") }
        parameterStorage.replaceSubrange(range, with: value.scalars)
        parametersDidChange(layers: layer..<(layer + 1))
    }

    /// Gives `body` the whole flat parameter buffer (``parameterNames``
    /// order) to change in place, in one loop if it likes (Adam's step),
    /// then lets each layer follow the new weights (a Winograd convolution
    /// transforms its kernel again).
    package mutating func updateParameterStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        defer { parametersDidChange() }
        return try parameterStorage.withUnsafeMutableBufferPointer { try body($0) }
    }

    /// Tells the layers in `range` (all by default) their weights may have changed.
    private mutating func parametersDidChange(layers range: Range<Int>? = nil) {
        let storage = parameterStorage
        storage.withUnsafeBufferPointer { p in
            let base = p.baseAddress ?? Self.noParameters
            for i in range ?? bareLayers.indices { bareLayers[i].parametersDidChange(base + parameterOffsets[i]) }
        }
    }

    /// Gives `body` the start of the flat parameter buffer (read only).
    package func withParameters<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try parameterStorage.withUnsafeBufferPointer { try body($0.baseAddress ?? Self.noParameters) }
    }

    /// What a layer without parameters is handed (never read): the buffer of a network without weights has no address.
    nonisolated(unsafe) package static let noParameters = UnsafePointer(UnsafeMutablePointer<Float>.allocate(capacity: 1))

    /// Runs `range` of the layers on `batch` examples at `input` (the input
    /// of the range's first layer) and returns where the last one's output
    /// is, inside `workspace`; `afterLayer(i)` is called when layer `i` is
    /// done (the profiler's laps).
    @discardableResult
    package func forward(_ input: UnsafePointer<Float>, batch: Int, workspace: Workspace,
                        layers range: Range<Int>? = nil, afterLayer: (Int) -> Void = { _ in }) -> UnsafePointer<Float> {
        let range = range ?? bareLayers.indices
        precondition(batch <= workspace.batchCapacity, "batch \(batch) exceeds the workspace's \(workspace.batchCapacity)")
        return withParameters { parameters in
            var current = input
            for i in range {
                // A pass-through layer's output buffer already holds its input, unless that input is the caller's.
                if !(bareLayers[i].passesInputThrough && i > range.lowerBound) {
                    bareLayers[i].forward(current, into: workspace.outputs[i], batch: batch,
                                          parameters: parameters + parameterOffsets[i], workspace: workspace.scratch[i])
                }
                current = UnsafePointer(workspace.outputs[i])
                afterLayer(i)
            }
            return current
        }
    }

    /// Back-propagates through every layer after ``forward(_:batch:workspace:layers:afterLayer:)``
    /// ran on all of them with the same `input` and `workspace`;
    /// `afterLayer(i)` is called when layer `i` is done (last layer first).
    ///
    /// The caller writes ∂L/∂output into `workspace.outputGradient` first.
    /// Parameter gradients are *added* to `workspace`'s gradient buffers
    /// (zero them with ``Workspace/zeroGradients()``); the first layer's input
    /// gradient is not computed.
    package func backward(input: UnsafePointer<Float>, batch: Int, workspace: Workspace, afterLayer: (Int) -> Void = { _ in }) {
        withParameters { parameters in
            var gradient = workspace.outputGradient
            var spare = workspace.spareGradient
            for i in bareLayers.indices.reversed() {
                // ∂L/∂input of a pass-through layer is ∂L/∂output, already in place.
                if bareLayers[i].passesInputThrough { afterLayer(i); continue }
                let layerInput = i == 0 ? input : UnsafePointer(workspace.outputs[i - 1])
                bareLayers[i].backward(input: layerInput, output: workspace.outputs[i],
                                       outputGradient: gradient, inputGradient: i == 0 ? nil : spare,
                                       parameters: parameters + parameterOffsets[i],
                                       parameterGradients: workspace.parameterGradients[i],
                                       batch: batch, workspace: workspace.scratch[i])
                swap(&gradient, &spare)
                afterLayer(i)
            }
        }
    }
}
