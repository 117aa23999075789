/// A heap block of floats that lives as long as the object: the
/// preallocated buffers the layers' pointer-level passes read and write.
final class FloatBuffer {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// `count` zeros (at least one float, so the pointer is always valid).
    init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A copy of `values`.
    convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    var readOnly: UnsafePointer<Float> { UnsafePointer(pointer) }

    /// Sets the first `count` floats (all by default) to zero.
    func zero(_ count: Int? = nil) { pointer.update(repeating: 0, count: count ?? self.count) }

    /// Copies `count` floats from `source`.
    func copy(from source: UnsafePointer<Float>, count: Int) { pointer.update(from: source, count: count) }

    /// The first `count` floats as an array.
    func array(_ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// The largest `|a[i] − b[i]|`, and the largest `|b[i]|` (the scale of the reference `b`).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> (difference: Float, scale: Float) {
    precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
    var difference: Float = 0, scale: Float = 0
    for i in a.indices {
        difference = max(difference, abs(a[i] - b[i]))
        scale = max(scale, abs(b[i]))
    }
    return (difference, scale)
}
