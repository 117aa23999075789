/// Clean training or test images, produced as floats batch by batch.
///
/// ``ImageDataset`` keeps images as bytes and converts on the fly, so a
/// 60 000-image set never exists as floats; a `Tensor` of images works too,
/// and a ``PatchSampler`` cuts new patches from a folder of photographs
/// every epoch.
///
/// Custom data need no conformance: `Tensor(images: floats, imageShape: [h, w, c])`
/// for `[Float]` in [0, 1], or ``ImageDataset/init(pixels:imageShape:)`` for
/// `[UInt8]`, are image sources. To stream from elsewhere, conform a
/// `Sendable` type; the contract of ``fill(_:into:)``:
///
/// - `destination` has room for `indices.count · imageShape` floats and may
///   hold anything: write every one of them, image after image, in the
///   order of `indices` (NHWC, channels fastest, values in [0, 1]);
/// - `fit` calls it from several threads at once (one per worker), each with
///   its own indices and destination, so it must not mutate shared state
///   without a lock; indices are always in `0..<imageCount`;
/// - it cannot throw: check what can fail (files, decoding) in
///   ``validatePixels(_:)``, which `fit` calls first.
///
/// ```swift
/// struct Gradients: ImageSource {
///     var imageCount: Int { 100 }
///     var imageShape: [Int] { [32, 32, 1] }
///     func fill(_ indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>) {
///         var out = destination
///         for index in indices {
///             for y in 0..<32 { for x in 0..<32 { out[y * 32 + x] = Float((x + y + index) % 64) / 63 } }
///             out += 32 * 32
///         }
///     }
/// }
/// try model.fit(Gradients(), options: TrainingOptions(epochs: 1))
/// ```
public protocol ImageSource: Sendable {
    /// The number of images.
    var imageCount: Int { get }
    /// `[height, width, channels]` of one image.
    var imageShape: [Int] { get }
    /// Writes the images at `indices` as floats in [0, 1] to `destination`, one after another.
    func fill(_ indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>)
    /// Writes the images at `indices` as they are in training epoch `epoch`
    /// (from 1). Most sources have the same images every epoch, and the
    /// default forwards to ``fill(_:into:)``; a ``PatchSampler`` draws new
    /// patches each epoch, as a pure function of `(seed, epoch, index)`.
    func fill(_ indices: some Collection<Int>, epoch: Int, into destination: UnsafeMutablePointer<Float>)
    /// Throws `DAEError/invalidValue(_:reason:)` naming the first image
    /// with a value that is not finite or outside [0, 1]. Sources that cannot
    /// hold such values (bytes) need not implement it.
    func validatePixels(_ what: String) throws
}

extension ImageSource {
    public func validatePixels(_ what: String) throws {}
    public func fill(_ indices: some Collection<Int>, epoch: Int, into destination: UnsafeMutablePointer<Float>) {
        fill(indices, into: destination)
    }
}

extension ImageDataset: ImageSource {
    /// The number of images (``count``).
    public var imageCount: Int { count }
}

extension Tensor {
    /// Images given as floats in [0, 1] of one shape, `[height, width, channels]`:
    /// a batch `[n] + imageShape` with `n` from the count, checked.
    ///
    /// ```swift
    /// let frames = try Tensor(images: floats, imageShape: [48, 48, 1])   // [Float], NHWC
    /// try model.fit(frames, options: TrainingOptions(epochs: 5))
    /// ```
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` when the shape is not three
    ///   positive sizes or the values are not a whole number of images, and
    ///   `DAEError/invalidValue(_:reason:)` naming the first value that is
    ///   not finite or outside [0, 1].
    public init(images: [Float], imageShape: [Int]) throws {
        guard imageShape.count == 3, imageShape.allSatisfy({ $0 > 0 }),
              let size = Tensor.checkedElementCount(of: imageShape), images.count % size == 0 else {
            throw DAEError.invalidArgument("\(images.count) values are not a whole number of images of shape \(imageShape)")
        }
        self.init(shape: [images.count / size] + imageShape, scalars: images)
        if images.count > 0 { try validatePixels("images") }
    }
}

extension Tensor: ImageSource {
    /// The size of the first dimension: images in an NHWC batch.
    public var imageCount: Int { shape.first ?? 0 }
    /// The shape of one image: every dimension after the first.
    public var imageShape: [Int] { Array(shape.dropFirst()) }

    /// Checks that every value is finite and in [0, 1].
    public func validatePixels(_ what: String) throws {
        try ImageValidation.check(self, imageShape: imageShape, what: what)
    }

    /// Copies the images at `indices` to `destination`.
    public func fill(_ indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>) {
        let size = Tensor.elementCount(of: imageShape)
        withUnsafeBufferPointer { source in
            var out = destination
            for index in indices {
                precondition(index >= 0 && index < imageCount, "image index \(index) out of range 0..<\(imageCount)")
                out.update(from: source.baseAddress! + index * size, count: size)
                out += size
            }
        }
    }
}

extension ImageSource {
    /// Every image as one tensor `[imageCount] + imageShape`.
    public func allImagesTensor() -> Tensor {
        let count = imageCount * Tensor.elementCount(of: imageShape)
        var scalars = [Float](repeating: 0, count: count)
        if count > 0 {
            scalars.withUnsafeMutableBufferPointer { fill(0..<imageCount, into: $0.baseAddress!) }
        }
        return Tensor(shape: [imageCount] + imageShape, scalars: scalars)
    }
}
