import DAELayers

/// An 8-bit image in memory: gray (1 channel) or RGB (3 channels).
///
/// Pixels are row-major and interleaved: the value of channel `c` at row `y`,
/// column `x` is `pixels[(y * width + x) * channels + c]`. Images with an
/// alpha channel are flattened when they are read (see ``PNG``), so an
/// `Image` never holds alpha.
///
/// Conversions to and from ``Tensor`` map the byte range 0…255 to the float
/// range [0, 1], which is what the models take and produce:
///
/// ```swift
/// let image = try PNG.read(contentsOf: url)
/// let input = try image.tensor(channels: 1)          // [1, h, w, 1]
/// let output = try model.denoise(input)
/// try PNG.write(try Image(tensor: output, index: 0), to: outURL)
/// ```
public struct Image: Sendable, Equatable {
    /// The number of columns.
    public let width: Int
    /// The number of rows.
    public let height: Int
    /// Values per pixel: 1 for gray, 3 for RGB.
    public let channels: Int
    /// `height * width * channels` bytes, row-major, channels interleaved.
    public private(set) var pixels: [UInt8]

    /// Creates an image from its bytes.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when a size is not positive
    ///   or `channels` is not 1 or 3, ``DAEError/shapeMismatch(_:expected:actual:)``
    ///   when `pixels.count` is not `height * width * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        try Image.validate(width: width, height: height, channels: channels)
        guard pixels.count == width * height * channels else {
            throw DAEError.shapeMismatch(
                "image pixels", expected: [height, width, channels], actual: [pixels.count])
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Creates an image filled with one value in every channel.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` as ``init(width:height:channels:pixels:)``.
    public init(width: Int, height: Int, channels: Int, repeating value: UInt8) throws {
        try Image.validate(width: width, height: height, channels: channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [UInt8](repeating: value, count: width * height * channels)
    }

    /// Creates an image from image `index` of an NHWC batch `[n, h, w, c]`
    /// with `c` equal to 1 or 3.
    ///
    /// Values are clamped to [0, 1] (NaN counts as 0) and rounded to the
    /// nearest byte: `UInt8((x * 255).rounded())`.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when the tensor is not
    ///   rank 4 with 1 or 3 channels or `index` is outside `0..<n`.
    public init(tensor: Tensor, index: Int) throws {
        let shape = tensor.shape
        guard shape.count == 4, shape[1] > 0, shape[2] > 0, shape[3] == 1 || shape[3] == 3 else {
            throw DAEError.invalidArgument("an image tensor is [n, height, width, 1 or 3], not \(shape)")
        }
        guard (0..<shape[0]).contains(index) else {
            throw DAEError.invalidArgument("image index \(index) is outside 0..<\(shape[0])")
        }
        let count = shape[1] * shape[2] * shape[3]
        let start = index * count
        let bytes = tensor.scalars[start..<start + count].map(Image.byte(from:))
        try self.init(width: shape[2], height: shape[1], channels: shape[3], pixels: bytes)
    }

    /// The byte for a value in [0, 1]: clamped, NaN as 0, rounded to nearest.
    public static func byte(from value: Float) -> UInt8 {
        guard value > 0 else { return 0 }  // also catches NaN
        guard value < 1 else { return 255 }
        return UInt8((value * 255).rounded())
    }

    /// The image as a tensor `[1, height, width, channels]` with values in [0, 1]
    /// (`byte / 255`), converted to the requested channel count first
    /// (see ``converted(toChannels:)``).
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when `channels` is not 1 or 3.
    public func tensor(channels: Int) throws -> Tensor {
        let image = try converted(toChannels: channels)
        return Tensor(
            shape: [1, height, width, channels],
            scalars: image.pixels.map { Float($0) / 255 })
    }

    /// The same picture with `channels` channels.
    ///
    /// Gray to RGB copies the gray value into all three channels. RGB to gray
    /// uses the ITU-R BT.601 luma `0.299 R + 0.587 G + 0.114 B`, rounded to
    /// the nearest byte. Converting to the current channel count returns the
    /// image unchanged.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when `channels` is not 1 or 3.
    public func converted(toChannels channels: Int) throws -> Image {
        guard channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("an image has 1 (gray) or 3 (RGB) channels, not \(channels)")
        }
        if channels == self.channels { return self }
        var out = [UInt8]()
        out.reserveCapacity(width * height * channels)
        if channels == 3 {
            for value in pixels { out.append(contentsOf: [value, value, value]) }
        } else {
            var i = 0
            while i < pixels.count {
                out.append(PixelConversion.luma(pixels[i], pixels[i + 1], pixels[i + 2]))  // one BT.601 formula for files and images
                i += 3
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: out)
    }

    /// Stacks images of one size into a batch `[n, height, width, channels]`
    /// in [0, 1], converting each to `channels` first.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` for an empty list or a bad
    ///   channel count, ``DAEError/shapeMismatch(_:expected:actual:)`` when
    ///   the images differ in size.
    public static func batch(_ images: [Image], channels: Int) throws -> Tensor {
        guard let first = images.first else {
            throw DAEError.invalidArgument("cannot make a batch of no images")
        }
        var scalars = [Float]()
        scalars.reserveCapacity(images.count * first.height * first.width * channels)
        for (i, image) in images.enumerated() {
            guard image.width == first.width, image.height == first.height else {
                throw DAEError.shapeMismatch(
                    "image \(i) of the batch", expected: [first.height, first.width],
                    actual: [image.height, image.width])
            }
            scalars.append(contentsOf: try image.converted(toChannels: channels).pixels.map { Float($0) / 255 })
        }
        return Tensor(shape: [images.count, first.height, first.width, channels], scalars: scalars)
    }

    /// The value of `channel` at row `y`, column `x` (read and write); all three must be in range.
    public subscript(y: Int, x: Int, channel: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + channel] }
        set { pixels[(y * width + x) * channels + channel] = newValue }
    }

    private static func validate(width: Int, height: Int, channels: Int) throws {
        guard channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("an image has 1 (gray) or 3 (RGB) channels, not \(channels)")
        }
        guard width > 0, height > 0 else {
            throw DAEError.invalidArgument("image size \(width)x\(height) is not positive")
        }
        guard width.multipliedReportingOverflow(by: height).overflow == false,
              (width * height).multipliedReportingOverflow(by: channels).overflow == false
        else {
            throw DAEError.invalidArgument("image size \(width)x\(height) is too large")
        }
    }
}
