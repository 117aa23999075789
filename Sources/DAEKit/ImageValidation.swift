/// Checks of user-supplied image batches: shape, finiteness and range.
enum ImageValidation {
    /// Throws unless `batch` is `[n] + imageShape` with `n ≥ 1` and every
    /// value finite and in [0, 1]; the error names the first bad image.
    static func check(_ batch: Tensor, imageShape: [Int], what: String) throws {
        guard batch.rank == imageShape.count + 1, Array(batch.shape.dropFirst()) == imageShape, batch.shape[0] > 0 else {
            throw DAEError.shapeMismatch(what, expected: [max(batch.shape.first ?? 1, 1)] + imageShape, actual: batch.shape)
        }
        let perImage = Tensor.elementCount(of: imageShape)
        try batch.withUnsafeBufferPointer { values in
            for i in 0..<values.count {
                let value = values[i]
                guard value.isFinite else {
                    throw DAEError.invalidValue(what, reason: "image \(i / perImage) holds \(value) (NaN or infinity) at element \(i % perImage)")
                }
                guard value >= 0, value <= 1 else {
                    throw DAEError.invalidValue(what, reason: "image \(i / perImage) holds \(value) at element \(i % perImage); pixel values must lie in [0, 1]")
                }
            }
        }
    }
}
