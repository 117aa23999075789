/// A layer with an explicit forward and backward pass over whole batches.
///
/// Shapes are per example (`[height, width, channels]` for images,
/// `[features]` for vectors); the batch is the leading dimension of every
/// buffer. The pointer-level passes
/// ``forward(_:into:batch:parameters:workspace:)`` and
/// ``backward(input:output:outputGradient:inputGradient:parameters:parameterGradients:batch:workspace:)``
/// take the weights at call time, flat (the parameters in the order of
/// ``parameterNames``, one after the other): a ``Sequential`` network holds
/// every layer's weights in one buffer of its own and hands each layer its
/// slice, so a layer inside a network holds no weights itself. The `Tensor`
/// methods in the extension are the convenient way to use a layer on its
/// own, with the weights it holds (``parameters``).
///
/// The contract between the two passes: `backward` receives the same
/// `input`, `output`, `parameters` and `workspace` that `forward` used,
/// untouched in between (a convolution keeps its patch matrix in the
/// workspace for the weight gradient).
///
/// A layer written before the passes took their weights (one that
/// implements ``forward(_:into:batch:workspace:)`` and
/// ``backward(input:output:outputGradient:inputGradient:parameterGradients:batch:workspace:)``
/// on the weights it holds) still works: the default passes call those, and
/// the default ``parametersDidChange(_:)`` copies the network's weights
/// into the layer. A layer must implement one of the two pairs; one that
/// implements neither stops at its first pass with a message that says so.
public protocol Layer: Sendable {
    /// The layer's name, the prefix of its parameters' names (e.g. `encoder.conv0`).
    var name: String { get }
    /// The layer's kind as Keras names it (e.g. `Conv2D`), for summaries.
    var kind: String { get }
    /// The shape of one input example.
    var inputShape: [Int] { get }
    /// The shape of one output example.
    var outputShape: [Int] { get }
    /// Local names of the parameters, in order (e.g. `["kernel", "bias"]`).
    var parameterNames: [String] { get }
    /// The shapes of the parameters, in the order of ``parameterNames``
    /// (known whether or not the layer holds its weights). Defaults to ``parameters``' shapes.
    var parameterShapes: [[Int]] { get }
    /// The weights the layer holds, in the order of ``parameterNames``.
    /// A layer taken from a ``Sequential``'s ``Sequential/layers`` holds the network's weights
    /// at the time (a copy: the network's later updates do not reach it).
    var parameters: [Tensor] { get }
    /// Gives `body` in-place access to each weight the layer holds, with its index; the shape must not change.
    mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows
    /// This layer holding `parameters` (flat, in the order of
    /// ``parameterNames``) as its weights, or, given none (`[]`), holding no
    /// weights of its own: how a ``Sequential`` takes a layer's weights into
    /// its buffer and gives them back. The default sets them through
    /// ``updateParameters(_:)`` and, given none, keeps what the layer holds.
    func withParameters(_ parameters: [Float]) -> Self
    /// Called by a ``Sequential`` after it changed this layer's weights
    /// (`parameters`, flat): a layer that keeps something computed from its
    /// weights (a ``Conv2D``'s Winograd-transformed kernel) recomputes it.
    /// The default copies them into the weights the layer holds, if it holds any.
    mutating func parametersDidChange(_ parameters: UnsafePointer<Float>)
    /// True when the output *is* the input, reinterpreted (a reshape in
    /// memory order): a ``Sequential`` network then lets the layer's output
    /// share its input's buffer and skips both passes. Defaults to false.
    var passesInputThrough: Bool { get }
    /// Floats of scratch memory the layer needs for a batch of `batch`.
    func workspaceCount(batch: Int) -> Int
    /// Floats of scratch memory ``forward(_:into:batch:parameters:workspace:)`` alone
    /// needs for a batch of `batch` (an inference-only ``Workspace``
    /// allocates this): ``workspaceCount(batch:)`` unless the layer says
    /// less (a Winograd ``Conv2D`` needs no patch matrix to run forward).
    func forwardWorkspaceCount(batch: Int) -> Int
    /// Computes `output` (`batch × outputShape`) from `input` (`batch × inputShape`)
    /// with the weights at `parameters` (flat, in the order of ``parameterNames``).
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                 batch: Int, parameters: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>)
    /// Back-propagates `outputGradient` (∂L/∂output, overwritten as scratch)
    /// with the weights at `parameters` (as the forward pass had them):
    /// *adds* ∂L/∂parameter to each of `parameterGradients` and, when
    /// `inputGradient` is not nil, *writes* ∂L/∂input there.
    func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameters: UnsafePointer<Float>, parameterGradients: [UnsafeMutablePointer<Float>],
                  batch: Int, workspace: UnsafeMutablePointer<Float>)
    /// ``forward(_:into:batch:parameters:workspace:)`` with the weights the layer holds.
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                 batch: Int, workspace: UnsafeMutablePointer<Float>)
    /// ``backward(input:output:outputGradient:inputGradient:parameters:parameterGradients:batch:workspace:)``
    /// with the weights the layer holds.
    func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                  outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                  parameterGradients: [UnsafeMutablePointer<Float>],
                  batch: Int, workspace: UnsafeMutablePointer<Float>)
    /// The matrix products the passes issue at `batch` (see `ExecutionPlan.swift`);
    /// `needsInputGradient` is false for a network's first layer. Defaults to none.
    func gemmPlan(batch: Int, needsInputGradient: Bool) -> [GemmPlan]
    /// The im2col / col2im steps of the passes, or nil for a layer that lowers nothing (the default).
    func loweringPlan(needsInputGradient: Bool) -> LoweringPlan?
    /// This layer for examples of `shape`, as Caffe's `Reshape()`: the same
    /// weights (shared, not copied) and settings, with the geometry that
    /// follows from the new input. A convolution or a pixel shuffle takes any
    /// height and width; a layer whose weights fix its input (``Dense``) or a
    /// fixed ``Reshape`` takes only its own ``inputShape`` (the default), and
    /// throws `DAEError.invalidConfiguration` for any other.
    func resized(toInput shape: [Int]) throws -> any Layer
}

/// The defaults that let a layer written against the passes on its own
/// weights run inside a ``Sequential``, and the other way round.
extension Layer {
    public var parameterShapes: [[Int]] { parameters.map(\.shape) }

    public func withParameters(_ parameters: [Float]) -> Self {
        guard !parameters.isEmpty else { return self }
        var layer = self
        parameters.withUnsafeBufferPointer { layer.copyParameters(from: $0.baseAddress!) }
        return layer
    }

    public mutating func parametersDidChange(_ parameters: UnsafePointer<Float>) {
        guard !self.parameters.isEmpty else { return }
        copyParameters(from: parameters)
    }

    /// Sets every weight the layer holds from `flat`, in order (the defaults' helper).
    private mutating func copyParameters(from flat: UnsafePointer<Float>) {
        var offset = 0
        updateParameters { _, tensor in
            let count = tensor.count
            tensor.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: flat + offset, count: count) }
            offset += count
        }
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, parameters: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        DefaultPasses.$caller.withValue(DefaultPasses.Caller(self, "forward")) {
            forward(input, into: output, batch: batch, workspace: workspace)
        }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameters: UnsafePointer<Float>, parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        DefaultPasses.$caller.withValue(DefaultPasses.Caller(self, "backward")) {
            backward(input: input, output: output, outputGradient: outputGradient, inputGradient: inputGradient,
                     parameterGradients: parameterGradients, batch: batch, workspace: workspace)
        }
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, workspace: UnsafeMutablePointer<Float>) {
        DefaultPasses.checkImplemented(self, "forward")
        withHeldParameters { forward(input, into: output, batch: batch, parameters: $0, workspace: workspace) }
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        DefaultPasses.checkImplemented(self, "backward")
        withHeldParameters { p in
            backward(input: input, output: output, outputGradient: outputGradient, inputGradient: inputGradient,
                     parameters: p, parameterGradients: parameterGradients, batch: batch, workspace: workspace)
        }
    }

    /// Gives `body` the weights the layer holds, flat (a copy: the standalone path, not a network's).
    func withHeldParameters<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        let flat = parameters.flatMap(\.scalars)
        return try flat.withUnsafeBufferPointer { try body($0.baseAddress ?? Sequential.noParameters) }
    }
}

extension Layer {
    public var passesInputThrough: Bool { false }
    /// The layer itself for its own ``inputShape``; any other shape throws.
    public func resized(toInput shape: [Int]) throws -> any Layer {
        guard shape == inputShape else {
            throw DAEError.invalidConfiguration("\(name) (\(kind)) takes inputs of \(inputShape) only, not \(shape)")
        }
        return self
    }
    public func forwardWorkspaceCount(batch: Int) -> Int { workspaceCount(batch: batch) }
    /// Elements of one input example.
    public var inputCount: Int { Tensor.elementCount(of: inputShape) }
    /// Elements of one output example.
    public var outputCount: Int { Tensor.elementCount(of: outputShape) }
    /// The number of trainable scalars.
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + Tensor.elementCount(of: $1) } }
    /// Parameters by their full names (`name.kernel`, `name.bias`).
    public var namedParameters: [(name: String, tensor: Tensor)] {
        zip(parameterNames, parameters).map { ("\(name).\($0)", $1) }
    }

    /// The batch size of `input` after checking it is `[batch] + inputShape`.
    func checkedBatch(_ input: Tensor, _ what: String) throws -> Int {
        guard input.rank == inputShape.count + 1, Array(input.shape.dropFirst()) == inputShape else {
            throw DAEError.shapeMismatch("\(name) \(what)", expected: [input.shape.first ?? 1] + inputShape,
                                         actual: input.shape)
        }
        guard input.shape[0] > 0 else {
            throw DAEError.invalidArgument("\(name) \(what) is an empty batch")
        }
        return input.shape[0]
    }

    /// Runs the layer on a batch `[n] + inputShape` and returns `[n] + outputShape`.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try forwardKeepingWorkspace(input).output
    }

    private func forwardKeepingWorkspace(_ input: Tensor) throws -> (output: Tensor, workspace: [Float]) {
        let batch = try checkedBatch(input, "input")
        var output = Tensor(zeros: [batch] + outputShape)
        var workspace = [Float](repeating: 0, count: max(workspaceCount(batch: batch), 1))
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                workspace.withUnsafeMutableBufferPointer { w in
                    forward(x.baseAddress!, into: y.baseAddress!, batch: batch, workspace: w.baseAddress!)
                }
            }
        }
        return (output, workspace)
    }

    /// Back-propagates `outputGradient` through the layer at `input`.
    ///
    /// Runs the forward pass again (to rebuild what backward needs), adds
    /// ∂L/∂parameter to `parameterGradients` (created as zeros when empty)
    /// and returns ∂L/∂input.
    public func backward(input: Tensor, outputGradient: Tensor, parameterGradients: inout [Tensor]) throws -> Tensor {
        let batch = try checkedBatch(input, "input")
        try outputGradient.checkShape([batch] + outputShape, "\(name) output gradient")
        if parameterGradients.isEmpty {
            parameterGradients = parameters.map { Tensor(zeros: $0.shape) }
        }
        guard parameterGradients.map(\.shape) == parameters.map(\.shape) else {
            throw DAEError.shapeMismatch("\(name) parameter gradients", expected: parameters.map(\.count),
                                         actual: parameterGradients.map(\.count))
        }
        var (output, workspace) = try forwardKeepingWorkspace(input)
        var gradient = outputGradient
        var inputGradient = Tensor(zeros: input.shape)
        // Parameter gradients go through separate buffers: one pointer per parameter at once.
        let gradientBuffers = parameterGradients.map { tensor in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(tensor.count, 1))
            _ = buffer.initialize(from: tensor.scalars)
            return buffer
        }
        defer { gradientBuffers.forEach { $0.deallocate() } }
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                gradient.withUnsafeMutableBufferPointer { dy in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        workspace.withUnsafeMutableBufferPointer { w in
                            backward(input: x.baseAddress!, output: y.baseAddress!,
                                     outputGradient: dy.baseAddress!, inputGradient: dx.baseAddress!,
                                     parameterGradients: gradientBuffers.map { $0.baseAddress! }, batch: batch,
                                     workspace: w.baseAddress!)
                        }
                    }
                }
            }
        }
        for (i, buffer) in gradientBuffers.enumerated() {
            parameterGradients[i] = Tensor(shape: parameterGradients[i].shape,
                                           scalars: Array(buffer.prefix(parameterGradients[i].count)))
        }
        return inputGradient
    }
}

/// A layer without parameters or scratch memory (a reshape or a permutation of its input): the
/// parameter requirements come with it.
public protocol WeightlessLayer: Layer {}

extension WeightlessLayer {
    public var parameterNames: [String] { [] }
    public var parameterShapes: [[Int]] { [] }
    public var parameters: [Tensor] { [] }
    public func withParameters(_ parameters: [Float]) -> Self { self }
    public mutating func parametersDidChange(_ parameters: UnsafePointer<Float>) {}
    public mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {}
    public func workspaceCount(batch: Int) -> Int { 0 }
}

/// Catches a layer that implements neither pass of a pair: each default
/// calls the other, so without this check the two would recurse until the
/// stack overflows. The default on the network's weights records which
/// layer (its type and name) and pass it stands in for; the default on held
/// weights, entered for that same layer and pass, stops with a message
/// naming what to implement. A layer that calls another layer's pass
/// inside its own is a different caller, so composite layers are fine.
enum DefaultPasses {
    struct Caller: Equatable, Sendable {
        let layerType: ObjectIdentifier, name: String, pass: String
        init(_ layer: some Layer, _ pass: String) {
            layerType = ObjectIdentifier(type(of: layer))
            name = layer.name
            self.pass = pass
        }
    }

    /// The layer and pass whose default on the network's weights is running, on this thread.
    @TaskLocal static var caller: Caller?

    static func checkImplemented(_ layer: some Layer, _ pass: String) {
        guard let caller, caller == Caller(layer, pass) else { return }
        fatalError("\(layer.kind) layer '\(layer.name)' (\(type(of: layer))) implements neither \(pass) pass: implement "
            + "\(pass == "forward" ? "forward(_:into:batch:parameters:workspace:)" : "backward(input:output:outputGradient:inputGradient:parameters:parameterGradients:batch:workspace:)") "
            + "(or the one on the weights the layer holds)")
    }
}
