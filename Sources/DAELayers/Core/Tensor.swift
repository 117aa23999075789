/// A dense, row-major array of 32-bit floats with a shape.
///
/// Images are laid out NHWC: `[batch, height, width, channels]`, channels
/// fastest. Flattening therefore needs no data movement: element
/// `(h, w, c)` of an `H×W×C` map is element `(h·W + w)·C + c` of its vector,
/// exactly as Keras flattens.
///
/// `Tensor` is a value type (copy-on-write through its `scalars` array) and
/// `Sendable`.
///
/// ```swift
/// let image = Tensor(shape: [1, 28, 28, 1], scalars: pixels)
/// let zeros = Tensor(zeros: [32, 16])
///
/// var batch = Tensor(zeros: [2, 28, 28, 1])
/// batch[0, 14, 14, 0] = 1          // image 0, row 14, column 14, channel 0
/// batch.scalars[5] = 0.5           // or the flat, row-major elements
/// ```
public struct Tensor: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    ///
    /// Elements may be changed in place (`tensor.scalars[i] = x`,
    /// `tensor.scalars.withUnsafeMutableBufferPointer`); changing their
    /// count is a programming error that stops the program, as the shape
    /// cannot follow. Use ``reshaped(to:)`` or a new tensor for that.
    public var scalars: [Float] {
        didSet {
            precondition(scalars.count == Tensor.elementCount(of: shape),
                         "Tensor of shape \(shape) needs \(Tensor.elementCount(of: shape)) scalars, not \(scalars.count)")
        }
    }

    /// Creates a tensor from its shape and row-major elements.
    ///
    /// The element count must equal the product of `shape` and every
    /// dimension must be non-negative: breaking that is a programming error
    /// and stops the program with a message naming both. Use
    /// ``init(validatingShape:scalars:)`` for data that comes from outside.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        precondition(
            Tensor.elementCount(of: shape) == scalars.count,
            "Tensor shape \(shape) holds \(Tensor.elementCount(of: shape)) elements but \(scalars.count) scalars were given")
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor, throwing ``DAEError/shapeMismatch(_:expected:actual:)``
    /// when the element count does not match the shape.
    public init(validatingShape shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let count = Tensor.checkedElementCount(of: shape) else {
            throw DAEError.invalidArgument("tensor shape \(shape) has a negative or overflowing dimension")
        }
        guard count == scalars.count else {
            throw DAEError.shapeMismatch("tensor scalars", expected: shape, actual: [scalars.count])
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        self.shape = shape
        self.scalars = [Float](repeating: value, count: Tensor.elementCount(of: shape))
    }

    /// A tensor of the given shape filled with zeros.
    public init(zeros shape: [Int]) {
        self.init(repeating: 0, shape: shape)
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The number of elements, the product of ``shape``.
    public var count: Int { scalars.count }

    /// The element at `indices`, one per dimension (`tensor[n, row, column, channel]` for an NHWC batch).
    ///
    /// An index count other than ``rank``, or an index out of its dimension's
    /// range, is a programming error that stops the program with a message
    /// naming both, as an array's subscript does.
    public subscript(_ indices: Int...) -> Float {
        get { scalars[offset(of: indices)] }
        set { scalars[offset(of: indices)] = newValue }
    }

    /// The row-major position of the element at `indices`.
    func offset(of indices: [Int]) -> Int {
        precondition(indices.count == rank, "\(indices.count) indices \(indices) for a rank-\(rank) tensor of shape \(shape)")
        var offset = 0
        for (index, dimension) in zip(indices, shape) {
            precondition(index >= 0 && index < dimension, "index \(indices) out of range for shape \(shape)")
            offset = offset * dimension + index
        }
        return offset
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(to newShape: [Int]) throws -> Tensor {
        guard newShape.allSatisfy({ $0 >= 0 }), Tensor.checkedElementCount(of: newShape) == count else {
            throw DAEError.shapeMismatch("reshape of a tensor of shape \(shape)", expected: newShape, actual: shape)
        }
        return Tensor(shape: newShape, scalars: scalars)
    }

    /// The elements `range` along the first dimension (for example a slice of a batch).
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "slice \(range) out of bounds for shape \(shape)")
        let stride = shape.isEmpty ? 1 : count / Swift.max(shape[0], 1)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, scalars: Array(scalars[(range.lowerBound * stride)..<(range.upperBound * stride)]))
    }

    /// Calls `body` with the elements; the pointer is valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with mutable access to the elements, in place (the shape cannot change).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// Throws ``DAEError/shapeMismatch(_:expected:actual:)`` unless the shape is `expected`.
    public func checkShape(_ expected: [Int], _ what: @autoclosure () -> String) throws {
        guard shape == expected else { throw DAEError.shapeMismatch(what(), expected: expected, actual: shape) }
    }

    /// The largest absolute element (0 for an empty tensor).
    public var maxAbs: Float { scalars.reduce(0) { Swift.max($0, abs($1)) } }

    public var description: String {
        let head = scalars.prefix(6).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), scalars: [\(head)\(count > 6 ? ", …" : "")])"
    }

    /// The product of `shape` (1 for a scalar's empty shape).
    public static func elementCount(of shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The product of `shape`, or nil when a dimension is negative or the product overflows.
    public static func checkedElementCount(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }
}
