/// The two parameters of a ``Conv2D``, ``Conv2DTranspose`` or ``Dense``: a
/// kernel and a bias, their shapes always, and their values (flat: the
/// kernel, then the bias) when the layer holds them itself.
///
/// A layer on its own holds its weights here; inside a ``Sequential`` the
/// network holds them (one buffer for every layer) and the layer holds
/// none: its passes read the weights the network hands them
/// (`parameters + kernelCount` is the bias).
struct KernelAndBias: Sendable {
    /// The kernel's shape, in Keras's layout for the layer.
    let kernelShape: [Int]
    /// The bias's shape: `[filters]` or `[units]`.
    let biasShape: [Int]
    /// The kernel, then the bias, flat; empty when the layer holds no weights.
    private(set) var values: [Float]

    /// Weights from their tensors (shapes checked by the layer).
    init(kernel: Tensor, bias: Tensor) {
        kernelShape = kernel.shape
        biasShape = bias.shape
        values = kernel.scalars + bias.scalars
    }

    /// Where the bias starts in the flat parameters.
    var kernelCount: Int { Tensor.elementCount(of: kernelShape) }
    /// The two shapes, kernel first.
    var shapes: [[Int]] { [kernelShape, biasShape] }
    /// The local names, kernel first.
    static let names = ["kernel", "bias"]

    /// The kernel the layer holds (a layer inside a network holds none: asking is a programming error).
    var kernel: Tensor { Tensor(shape: kernelShape, scalars: Array(held[..<kernelCount])) }
    /// The bias the layer holds.
    var bias: Tensor { Tensor(shape: biasShape, scalars: Array(held[kernelCount...])) }
    /// The weights as tensors: kernel and bias.
    var tensors: [Tensor] { [kernel, bias] }

    private var held: [Float] {
        precondition(!values.isEmpty, "a layer inside a Sequential holds no weights: read them from the network")
        return values
    }

    /// These shapes holding `values` (flat, kernel then bias), or none (`[]`).
    func holding(_ values: [Float]) -> KernelAndBias {
        precondition(values.isEmpty || values.count == kernelCount + Tensor.elementCount(of: biasShape),
                     "\(values.count) weights for a kernel \(kernelShape) and a bias \(biasShape)")
        var weights = self
        weights.values = values
        return weights
    }

    /// Gives `body` each tensor with its index (0 kernel, 1 bias) and stores what it leaves; shapes must not change.
    mutating func update(_ body: (Int, inout Tensor) throws -> Void) rethrows {
        var (kernel, bias) = (self.kernel, self.bias)
        try body(0, &kernel)
        try body(1, &bias)
        precondition(kernel.shape == kernelShape && bias.shape == biasShape, "a parameter's shape must not change")
        values = kernel.scalars + bias.scalars
    }
}

extension Layer {
    /// This layer with the property at `keyPath` set to `value`.
    func replacing<Value>(_ keyPath: WritableKeyPath<Self, Value>, with value: Value) -> Self {
        var layer = self
        layer[keyPath: keyPath] = value
        return layer
    }
}
