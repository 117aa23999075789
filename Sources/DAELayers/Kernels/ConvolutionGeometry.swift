/// How a convolution pads its input.
public enum Padding: String, Sendable, Codable, CaseIterable {
    /// TensorFlow's `same`: `out = ceil(in / stride)`; the total padding
    /// `max((out − 1)·stride + k − in, 0)` is split with the smaller half
    /// before (top/left) and the extra pixel after (bottom/right).
    case same
    /// No padding: `out = floor((in − k) / stride) + 1`, needs `in ≥ k`.
    case valid
}

/// The index arithmetic of one 2-D convolution over NHWC images: sizes,
/// stride and padding. Both ``Conv2D`` and ``Conv2DTranspose`` are
/// described by the geometry of a *convolution* (for the transposed layer,
/// the convolution whose adjoint it is), so one `im2col`/`col2im` pair
/// serves both.
public struct ConvolutionGeometry: Sendable, Equatable, Hashable {
    public let inputHeight: Int
    public let inputWidth: Int
    public let inputChannels: Int
    public let kernelHeight: Int
    public let kernelWidth: Int
    public let stride: Int
    public let outputHeight: Int
    public let outputWidth: Int
    /// Rows of zero padding above the image (the rest of the padding is below).
    public let padTop: Int
    /// Columns of zero padding left of the image (the rest is on the right).
    public let padLeft: Int

    /// The geometry of a convolution of `kernelSize` over an input of
    /// `inputHeight × inputWidth × inputChannels`.
    ///
    /// Throws ``DAEError/invalidConfiguration(_:)`` when a size is not
    /// positive or a `valid` kernel is larger than the input.
    public init(
        inputHeight: Int, inputWidth: Int, inputChannels: Int,
        kernelHeight: Int, kernelWidth: Int, stride: Int, padding: Padding
    ) throws {
        guard inputHeight > 0, inputWidth > 0, inputChannels > 0 else {
            throw DAEError.invalidConfiguration(
                "convolution input \(inputHeight)x\(inputWidth)x\(inputChannels) must have positive sizes")
        }
        guard kernelHeight > 0, kernelWidth > 0 else {
            throw DAEError.invalidConfiguration("kernel size \(kernelHeight)x\(kernelWidth) must be positive")
        }
        guard stride > 0 else { throw DAEError.invalidConfiguration("stride \(stride) must be positive") }
        let (outH, padH) = try Self.outputAndPadding(inputHeight, kernelHeight, stride, padding, "height")
        let (outW, padW) = try Self.outputAndPadding(inputWidth, kernelWidth, stride, padding, "width")
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.outputHeight = outH
        self.outputWidth = outW
        self.padTop = padH
        self.padLeft = padW
    }

    /// Output size and padding-before along one axis.
    private static func outputAndPadding(
        _ input: Int, _ kernel: Int, _ stride: Int, _ padding: Padding, _ axis: String
    ) throws -> (output: Int, padBefore: Int) {
        switch padding {
        case .same:
            let output = (input + stride - 1) / stride
            let padTotal = max((output - 1) * stride + kernel - input, 0)
            return (output, padTotal / 2)
        case .valid:
            guard input >= kernel else {
                throw DAEError.invalidConfiguration(
                    "valid convolution: kernel \(axis) \(kernel) is larger than the input \(axis) \(input)")
            }
            return ((input - kernel) / stride + 1, 0)
        }
    }

    /// The output size of a transposed convolution along one axis:
    /// `in·stride` for `same`, `(in − 1)·stride + k` for `valid`.
    public static func transposedOutputSize(input: Int, kernel: Int, stride: Int, padding: Padding) -> Int {
        switch padding {
        case .same: return input * stride
        case .valid: return (input - 1) * stride + kernel
        }
    }

    /// Columns of the patch matrix: `kh · kw · inputChannels`.
    public var patchSize: Int { kernelHeight * kernelWidth * inputChannels }

    /// Output pixels of one image: `outH · outW`.
    public var outputPixels: Int { outputHeight * outputWidth }

    /// Input elements of one image.
    public var inputCount: Int { inputHeight * inputWidth * inputChannels }

    /// True when the patch matrix *is* the input: a 1×1 kernel, stride 1,
    /// no padding. Such layers skip `im2col` and use the input directly.
    public var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padTop == 0 && padLeft == 0
    }
}
