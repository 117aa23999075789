/// Checks of user-supplied image batches: shape, finiteness and range.
enum ImageValidation {
    /// Throws unless `batch` is `[n] + imageShape` with `n ≥ 1` and every
    /// value finite and in [0, 1]; the error names the first bad pixel as
    /// (image, row, column, channel).
    static func check(_ batch: Tensor, imageShape: [Int], what: String) throws {
        guard batch.rank == imageShape.count + 1 else {
            // The usual mistake: one image `[h, w, c]` without its batch dimension.
            throw DAEError.shapeMismatch("\(what) (a batch [n, h, w, c] of \(imageShape) images)",
                                         expected: [1] + imageShape, actual: batch.shape)
        }
        guard Array(batch.shape.dropFirst()) == imageShape, batch.shape[0] > 0 else {
            throw DAEError.shapeMismatch(what, expected: [max(batch.shape.first ?? 1, 1)] + imageShape, actual: batch.shape)
        }
        try batch.withUnsafeBufferPointer { values in
            for i in 0..<values.count {
                let value = values[i]
                guard value.isFinite else {
                    throw DAEError.invalidValue(what, reason: "\(position(of: i, imageShape: imageShape)) holds \(value) (NaN or infinity)")
                }
                guard value >= 0, value <= 1 else {
                    throw DAEError.invalidValue(
                        what, reason: "\(position(of: i, imageShape: imageShape)) holds \(value); pixel values must lie in [0, 1]")
                }
            }
        }
    }

    /// `image 2, row 5, column 7, channel 0` for the flat index `index` of an NHWC batch of `imageShape` images.
    static func position(of index: Int, imageShape: [Int]) -> String {
        guard imageShape.count == 3 else {
            let perImage = Tensor.elementCount(of: imageShape)
            return "image \(index / perImage), element \(index % perImage)"
        }
        let (height, width, channels) = (imageShape[0], imageShape[1], imageShape[2])
        let pixel = index / channels
        return "image \(pixel / (height * width)), row \(pixel / width % height), column \(pixel % width), channel \(index % channels)"
    }
}
