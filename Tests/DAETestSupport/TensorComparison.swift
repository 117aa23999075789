import DAELayers
import Testing

// MARK: - Making test data

/// A tensor of `shape` whose elements are drawn uniformly from `range` by a
/// ``SplitMix64`` seeded with `seed`: the same arguments always give the
/// same tensor, on every machine.
///
/// ```swift
/// let x = randomTensor(shape: [2, 7, 7, 3], seed: 1)                 // in [0, 1)
/// let k = randomTensor(shape: [3, 3, 3, 8], seed: 2, range: -0.5...0.5)
/// ```
public func randomTensor(shape: [Int], seed: UInt64, range: ClosedRange<Float> = 0...1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    let count = Tensor.elementCount(of: shape)
    let low = Double(range.lowerBound), width = Double(range.upperBound - range.lowerBound)
    var scalars = [Float](repeating: 0, count: count)
    for i in 0..<count { scalars[i] = Float(low + rng.nextUniform() * width) }
    return Tensor(shape: shape, scalars: scalars)
}

// MARK: - Comparing tensors

/// The largest `|a[i] − b[i]|`, computed in `Double`; `.infinity` when the
/// element counts differ (so a shape bug never passes as a small error).
public func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Double {
    maxAbsDifference(a.scalars.map(Double.init), b.scalars.map(Double.init))
}

/// The largest `|a[i] − b[i]|`; `.infinity` when the counts differ, NaN
/// poisons the result (it is returned as `.infinity`).
public func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

/// The largest absolute element, in `Double`.
public func maxMagnitude(_ values: [Double]) -> Double { values.reduce(0) { max($0, abs($1)) } }

/// The error of `actual` relative to the *scale* of `expected`:
/// `max|actual − expected| / max(max|expected|, tiny)`.
///
/// Unlike an element-wise relative error this does not blow up on elements
/// that happen to be near zero, and unlike an absolute error it does not
/// depend on the tensors' units. It is the metric of the gradient checks
/// and the reference-parity tests.
public func relativeError(_ actual: [Double], _ expected: [Double], tiny: Double = 1e-30) -> Double {
    maxAbsDifference(actual, expected) / max(maxMagnitude(expected), tiny)
}

/// ``relativeError(_:_:tiny:)`` of two tensors (`.infinity` when their shapes differ).
public func relativeError(_ actual: Tensor, _ expected: Tensor, tiny: Double = 1e-30) -> Double {
    guard actual.shape == expected.shape else { return .infinity }
    return relativeError(actual.scalars.map(Double.init), expected.scalars.map(Double.init), tiny: tiny)
}

/// `Σ a[i]·b[i]` in `Double`: the inner product of adjointness checks (`⟨Ax, y⟩ = ⟨x, Aᵀy⟩`).
public func innerProduct(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count, "inner product of \(a.shape) and \(b.shape)")
    var sum = 0.0
    for (x, y) in zip(a.scalars, b.scalars) { sum += Double(x) * Double(y) }
    return sum
}

/// True when `actual` has `expected`'s shape and every element is within
/// `absoluteTolerance + relativeTolerance · max|expected|` of it.
///
/// The bound scales with the largest magnitude of the *whole* expected
/// tensor (not of each element), the right yardstick for sums of products
/// computed in a different order.
public func isApproximatelyEqual(_ actual: Tensor, _ expected: Tensor,
                                 relativeTolerance: Double = 1e-5, absoluteTolerance: Double = 0) -> Bool {
    guard actual.shape == expected.shape else { return false }
    let bound = absoluteTolerance + relativeTolerance * Double(expected.maxAbs)
    return maxAbsDifference(actual, expected) <= bound
}

/// Records a Swift Testing issue unless `actual` is approximately `expected`
/// (see ``isApproximatelyEqual(_:_:relativeTolerance:absoluteTolerance:)``).
///
/// The message names `what`, both shapes, the largest difference, the bound
/// and the first element that broke it, so a failure says where to look.
///
/// ```swift
/// expectApproximatelyEqual(try conv(x), reference, relativeTolerance: 1e-5, "forward")
/// ```
public func expectApproximatelyEqual(
    _ actual: Tensor, _ expected: Tensor,
    relativeTolerance: Double = 1e-5, absoluteTolerance: Double = 0,
    _ what: @autoclosure () -> String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.shape == expected.shape else {
        Issue.record("\(what()): shape \(actual.shape) differs from the expected \(expected.shape)",
                     sourceLocation: sourceLocation)
        return
    }
    let bound = absoluteTolerance + relativeTolerance * Double(expected.maxAbs)
    let difference = maxAbsDifference(actual, expected)
    guard difference <= bound else {
        let index = zip(actual.scalars, expected.scalars).enumerated()
            .first { !(Double(abs($0.element.0 - $0.element.1)) <= bound) }?.offset ?? -1
        let detail = index >= 0 ? " (first at flat index \(index): \(actual.scalars[index]) vs \(expected.scalars[index]))" : ""
        Issue.record("\(what()): max |difference| \(difference) exceeds \(bound) = \(absoluteTolerance) + \(relativeTolerance)·\(expected.maxAbs)\(detail)",
                     sourceLocation: sourceLocation)
        return
    }
}
