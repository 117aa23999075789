/// Flatten and Reshape: a new per-example shape with the same element count.
///
/// In row-major NHWC a reshape moves no data (Keras's `Flatten` takes
/// `(h, w, c)` order, which is memory order): inside a ``Sequential``
/// network its output shares its input's buffer and the passes are skipped;
/// run on its own, the passes are copies.
public struct Reshape: WeightlessLayer {
    public let name: String
    public let kind: String
    public let inputShape: [Int]
    public let outputShape: [Int]

    /// Reshapes examples of `inputShape` to `outputShape`; the element counts must match.
    public init(name: String, inputShape: [Int], outputShape: [Int]) throws {
        guard inputShape.allSatisfy({ $0 > 0 }), outputShape.allSatisfy({ $0 > 0 }),
              Tensor.checkedElementCount(of: inputShape) == Tensor.checkedElementCount(of: outputShape) else {
            throw DAEError.invalidConfiguration("\(name): cannot reshape \(inputShape) to \(outputShape)")
        }
        self.name = name
        self.kind = outputShape.count == 1 ? "Flatten" : "Reshape"
        self.inputShape = inputShape
        self.outputShape = outputShape
    }

    /// Flattens examples of `inputShape` to vectors, in (h, w, c) order.
    public static func flatten(name: String = "flatten", inputShape: [Int]) throws -> Reshape {
        try Reshape(name: name, inputShape: inputShape, outputShape: [Tensor.elementCount(of: inputShape)])
    }

    public var passesInputThrough: Bool { true }

    /// A flatten for inputs of `shape` (any shape, flattened to one vector);
    /// a reshape to a fixed shape takes only its own ``inputShape``.
    public func resized(toInput shape: [Int]) throws -> any Layer {
        guard shape != inputShape else { return self }
        guard kind == "Flatten" else {
            throw DAEError.invalidConfiguration("\(name) (Reshape to \(outputShape)) takes inputs of \(inputShape) only, not \(shape)")
        }
        guard let count = Tensor.checkedElementCount(of: shape) else {
            throw DAEError.invalidConfiguration("\(name): the input \(shape) has too many elements")
        }
        return try Reshape(name: name, inputShape: shape, outputShape: [count])
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, workspace: UnsafeMutablePointer<Float>) {
        output.update(from: input, count: batch * inputCount)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        inputGradient?.update(from: outputGradient, count: batch * inputCount)
    }
}
