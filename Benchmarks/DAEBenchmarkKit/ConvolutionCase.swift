import DAEKit

/// One convolution of a model, rebuilt on its own so the benchmark can run
/// its three passes through the library's layer and through the naive loops.
///
/// The benchmark's layer has the model layer's geometry but an identity
/// activation, so its output is exactly the convolution (plus bias) that
/// ``NaiveConvolution`` computes.
public struct ConvolutionCase: Sendable, Codable, Equatable {
    /// Which layer type the convolution is.
    public enum Kind: String, Sendable, Codable {
        case conv2D = "Conv2D"
        case conv2DTranspose = "Conv2DTranspose"
    }

    /// The model layer's name, e.g. `encoder.conv0`.
    public var name: String
    public var kind: Kind
    /// `[height, width, channels]` of one input image.
    public var inputShape: [Int]
    /// `[height, width, channels]` of one output image.
    public var outputShape: [Int]
    public var kernelSize: Int
    public var stride: Int
    /// True when the library runs this convolution as direct loops (one
    /// input channel in its convolution's view) rather than im2col + GEMM.
    public var usesDirectLoops: Bool
    /// True when its input-gradient pass is direct too (stride 1).
    public var usesDirectInputGradient: Bool

    /// The convolutions of `configuration`'s model, input side first.
    public static func cases(of configuration: DenoisingAutoencoder.Configuration) throws -> [ConvolutionCase] {
        let model = try DenoisingAutoencoder(configuration: configuration, seed: 0)
        return model.network.layers.compactMap { layer in
            if let conv = layer as? Conv2D {
                return ConvolutionCase(name: conv.name, kind: .conv2D, inputShape: conv.inputShape,
                                       outputShape: conv.outputShape, kernelSize: conv.kernel.shape[0], stride: conv.stride,
                                       usesDirectLoops: conv.geometry.usesDirectLoops,
                                       usesDirectInputGradient: conv.geometry.usesDirectInputGradient)
            }
            if let deconv = layer as? Conv2DTranspose {
                return ConvolutionCase(name: deconv.name, kind: .conv2DTranspose, inputShape: deconv.inputShape,
                                       outputShape: deconv.outputShape, kernelSize: deconv.kernel.shape[0],
                                       stride: deconv.stride, usesDirectLoops: deconv.adjointGeometry.usesDirectLoops,
                                       usesDirectInputGradient: deconv.adjointGeometry.usesDirectInputGradient)
            }
            return nil
        }
    }

    /// Whether the library runs `pass` as direct loops: every pass of a
    /// one-channel convolution, except the input gradient of a strided one
    /// (a Conv2D's backward, a Conv2DTranspose's forward), which stays lowered.
    public func runsDirect(_ pass: ConvolutionReport.Pass) -> Bool {
        switch (kind, pass) {
        case (.conv2D, .inputGradient), (.conv2DTranspose, .forward): return usesDirectInputGradient
        default: return usesDirectLoops
        }
    }

    /// e.g. `28×28×1→14×14×32 s2`.
    public var shapeDescription: String {
        inputShape.map(String.init).joined(separator: "×") + "→" + outputShape.map(String.init).joined(separator: "×")
            + " s\(stride)"
    }

    /// Elements of one input image and one output image.
    var inputCount: Int { Tensor.elementCount(of: inputShape) }
    var outputCount: Int { Tensor.elementCount(of: outputShape) }

    /// The kernel's shape in Keras's layout: `[k, k, in, out]` for Conv2D,
    /// `[k, k, out, in]` for Conv2DTranspose.
    var kernelShape: [Int] {
        switch kind {
        case .conv2D: return [kernelSize, kernelSize, inputShape[2], outputShape[2]]
        case .conv2DTranspose: return [kernelSize, kernelSize, outputShape[2], inputShape[2]]
        }
    }

    /// FLOPs of one image through one pass (forward, input gradient or weight
    /// gradient all cost the same): `2 · pixels · k² · Cin · Cout`, where the
    /// pixels are the convolution's output pixels (for a transposed
    /// convolution, its input pixels: the lowered GEMM has one row per pixel
    /// of the low-resolution side).
    public var flopsPerImage: Double {
        let lowResolution = kind == .conv2D ? outputShape : inputShape
        return 2 * Double(lowResolution[0] * lowResolution[1]) * Double(kernelSize * kernelSize)
            * Double(inputShape[2]) * Double(outputShape[2])
    }

    /// The library layer with `kernel` and `bias` and an identity activation.
    func makeLayer(kernel: Tensor, bias: Tensor) throws -> any Layer {
        switch kind {
        case .conv2D:
            return try Conv2D(name: name, inputShape: inputShape, kernel: kernel, bias: bias,
                              stride: stride, padding: .same, activation: .identity)
        case .conv2DTranspose:
            return try Conv2DTranspose(name: name, inputShape: inputShape, kernel: kernel, bias: bias,
                                       stride: stride, padding: .same, activation: .identity)
        }
    }

    // MARK: - The naive loops of the three passes

    /// The forward pass by ``NaiveConvolution``: `y = conv(x) + bias`.
    func naiveForward(_ x: Tensor, kernel: Tensor, bias: Tensor) throws -> Tensor {
        switch kind {
        case .conv2D:
            return try NaiveConvolution.conv2D(x, kernel: kernel, bias: bias, stride: stride, padding: .same)
        case .conv2DTranspose:
            return try NaiveConvolution.conv2DTranspose(x, kernel: kernel, bias: bias, stride: stride, padding: .same)
        }
    }

    /// ∂L/∂x given ∂L/∂y. A transposed convolution's input gradient is the
    /// convolution it is the adjoint of, with the same kernel.
    func naiveInputGradient(_ dy: Tensor, kernel: Tensor) throws -> Tensor {
        switch kind {
        case .conv2D:
            return try NaiveConvolution.conv2DInputGradient(dy, kernel: kernel, inputShape: [dy.shape[0]] + inputShape,
                                                            stride: stride, padding: .same)
        case .conv2DTranspose:
            return try NaiveConvolution.conv2D(dy, kernel: kernel, stride: stride, padding: .same)
        }
    }

    /// ∂L/∂kernel given the input and ∂L/∂y, in the layer's kernel layout.
    /// For a transposed convolution the roles of input and output swap:
    /// `⟨dy, convᵀ(x)⟩ = ⟨conv(dy), x⟩`.
    func naiveKernelGradient(_ x: Tensor, _ dy: Tensor) throws -> Tensor {
        let size = (kernelSize, kernelSize)
        switch kind {
        case .conv2D:
            return try NaiveConvolution.conv2DKernelGradient(x, outputGradient: dy, kernelSize: size,
                                                             stride: stride, padding: .same)
        case .conv2DTranspose:
            return try NaiveConvolution.conv2DKernelGradient(dy, outputGradient: x, kernelSize: size,
                                                             stride: stride, padding: .same)
        }
    }
}
