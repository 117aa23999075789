import DAELayers
import Foundation

/// A set of equally sized images kept as raw bytes, with optional labels.
///
/// Pixels stay `UInt8` until a batch is requested (60 000 MNIST images are
/// 47 MB, not 188 MB), and become `Float(byte) / 255` then, exactly as the
/// tutorial's `x.astype("float32") / 255`. Layout is NHWC, channels fastest.
///
/// ```swift
/// let data = try IDXDataset(directory: IDXDataset.fashionMNISTDirectory)
/// let first = data.test.batch(0..<32)            // Tensor [32, 28, 28, 1]
/// let small = data.train.prefix(1000)            // the first 1000 images
/// ```
public struct ImageDataset: Sendable, Equatable {
    /// All pixels, image after image, each `height × width × channels` bytes.
    public let pixels: [UInt8]
    /// One label per image, when the data set has labels.
    public let labels: [UInt8]?
    /// The number of images.
    public let count: Int
    /// The image height in pixels.
    public let height: Int
    /// The image width in pixels.
    public let width: Int
    /// The number of channels (1 for grey images).
    public let channels: Int

    /// `[height, width, channels]`, the shape of one image.
    public var imageShape: [Int] { [height, width, channels] }

    /// `height · width · channels`, the number of bytes (and floats) per image.
    public var pixelsPerImage: Int { height * width * channels }

    /// Creates a data set from raw pixels (NHWC bytes) and optional labels.
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` when a size is not positive
    ///   (`count` may be 0), the sizes overflow, `pixels` does not hold exactly
    ///   `count · height · width · channels` bytes, or `labels` has another count.
    public init(pixels: [UInt8], count: Int, height: Int, width: Int, channels: Int, labels: [UInt8]? = nil) throws {
        guard count >= 0, height > 0, width > 0, channels > 0 else {
            throw DAEError.invalidArgument(
                "image data set needs count >= 0 and positive sizes, got count \(count), \(height)x\(width)x\(channels)")
        }
        guard let total = Tensor.checkedElementCount(of: [count, height, width, channels]), total == pixels.count else {
            throw DAEError.invalidArgument(
                "\(count) images of \(height)x\(width)x\(channels) do not match \(pixels.count) pixel bytes")
        }
        if let labels, labels.count != count {
            throw DAEError.invalidArgument("\(labels.count) labels for \(count) images")
        }
        self.init(unchecked: pixels, labels: labels, count: count, height: height, width: width, channels: channels)
    }

    /// Creates a data set from an IDX image file and an optional IDX label file.
    ///
    /// A rank-3 image file (`n × height × width`) gives one channel; a rank-4
    /// file (`n × height × width × channels`) keeps its last dimension as channels.
    ///
    /// - Throws: `DAEError/corruptFile(path:reason:)` naming the file when the
    ///   images are not rank 3 or 4, the labels are not rank 1, or the counts differ.
    public init(images: IDXFile, labels: IDXFile?) throws {
        let dims = images.dimensions
        guard dims.count == 3 || dims.count == 4 else {
            throw DAEError.corruptFile(
                path: images.path,
                reason: "images must have rank 3 (n×height×width) or 4 (n×height×width×channels), this file has rank \(dims.count) \(dims)")
        }
        var labelBytes: [UInt8]?
        if let labels {
            guard labels.dimensions.count == 1 else {
                throw DAEError.corruptFile(
                    path: labels.path, reason: "labels must have rank 1, this file has rank \(labels.dimensions.count) \(labels.dimensions)")
            }
            guard labels.dimensions[0] == dims[0] else {
                throw DAEError.corruptFile(
                    path: labels.path, reason: "holds \(labels.dimensions[0]) labels but \(images.path) holds \(dims[0]) images")
            }
            labelBytes = labels.bytes
        }
        try self.init(pixels: images.bytes, count: dims[0], height: dims[1], width: dims[2],
                      channels: dims.count == 4 ? dims[3] : 1, labels: labelBytes)
    }

    /// The images at `indices` as floats in [0, 1], shape `[indices.count, height, width, channels]`.
    ///
    /// Every index must be in `0..<count` (like an array subscript).
    public func batch(_ indices: some Collection<Int>) -> Tensor {
        let n = indices.count
        let total = n * pixelsPerImage
        let scalars = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
            if let base = buffer.baseAddress, total > 0 { fill(indices, into: base) }
            initialized = total
        }
        return Tensor(shape: [n] + imageShape, scalars: scalars)
    }

    /// Writes the images at `indices` as floats (`Float(byte) / 255`) to
    /// `destination`, one after another, without allocating.
    ///
    /// `destination` must have room for `indices.count · pixelsPerImage`
    /// floats, and every index must be in `0..<count`.
    public func fill(_ indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>) {
        let size = pixelsPerImage
        ImageDataset.byteToUnit.withUnsafeBufferPointer { table in
            pixels.withUnsafeBufferPointer { source in
                guard let sourceBase = source.baseAddress, let tableBase = table.baseAddress else { return }
                var out = destination
                for index in indices {
                    precondition(index >= 0 && index < count, "image index \(index) out of range 0..<\(count)")
                    let image = sourceBase + index * size
                    for offset in 0..<size {
                        out[offset] = tableBase[Int(image[offset])]
                    }
                    out += size
                }
            }
        }
    }

    /// The labels at `indices`, or nil when the data set has none. Every index must be in `0..<count`.
    public func labels(at indices: some Collection<Int>) -> [UInt8]? {
        guard let labels else { return nil }
        return indices.map { labels[$0] }
    }

    /// The first `n` images (all of them when `n >= count`, none when `n <= 0`).
    public func prefix(_ n: Int) -> ImageDataset {
        let kept = Swift.min(Swift.max(n, 0), count)
        return ImageDataset(
            unchecked: Array(pixels.prefix(kept * pixelsPerImage)), labels: labels.map { Array($0.prefix(kept)) },
            count: kept, height: height, width: width, channels: channels)
    }

    /// Every image as floats in [0, 1], shape `[count, height, width, channels]`.
    @available(*, deprecated, renamed: "allImagesTensor()", message: "every ImageSource has allImagesTensor()")
    public func allImages() -> Tensor {
        allImagesTensor()
    }

    /// Images given as bytes of one shape, `[height, width, channels]`; the
    /// count is `pixels.count` divided by the image size.
    ///
    /// ```swift
    /// let scans = try ImageDataset(pixels: bytes, imageShape: [64, 64, 1])   // [UInt8], NHWC
    /// try model.fit(scans, options: TrainingOptions(epochs: 5))
    /// ```
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` when the shape is not three
    ///   positive sizes or the bytes are not a whole number of images.
    public init(pixels: [UInt8], imageShape: [Int]) throws {
        guard imageShape.count == 3, imageShape.allSatisfy({ $0 > 0 }),
              let size = Tensor.checkedElementCount(of: imageShape), pixels.count % size == 0 else {
            throw DAEError.invalidArgument("\(pixels.count) bytes are not a whole number of images of shape \(imageShape)")
        }
        try self.init(pixels: pixels, count: pixels.count / size, height: imageShape[0], width: imageShape[1],
                      channels: imageShape[2])
    }

    private init(unchecked pixels: [UInt8], labels: [UInt8]?, count: Int, height: Int, width: Int, channels: Int) {
        self.pixels = pixels
        self.labels = labels
        self.count = count
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// `Float(b) / 255` for every byte `b`, computed in `Float` like NumPy's float32 division.
    private static let byteToUnit: [Float] = (0...255).map { Float($0) / 255 }
}
