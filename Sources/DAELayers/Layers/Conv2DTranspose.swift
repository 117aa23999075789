/// A 2-D transposed convolution over NHWC images, as Keras's `Conv2DTranspose`.
///
/// It is the exact adjoint (the input gradient) of a ``Conv2D`` that maps
/// its output back to its input, so it reuses that convolution's lowered
/// products in the other order: its forward pass is the convolution's
/// input-gradient pass (`GEMM` then `col2im`), its input gradient is the
/// convolution's forward pass (`im2col` then `GEMM`). With one filter (an
/// output layer producing a grey image), or up to four on a CPU with AVX2
/// (RGB, RGBA), that convolution has that few input channels, and the
/// passes run as direct loops instead (``ConvolutionGeometry/usesDirectLoops``).
///
/// - Kernel layout: Keras's `[kh, kw, filters, inChannels]` (output channels
///   *before* input channels), which is the adjoint convolution's own
///   `[kh, kw, in, out]` kernel.
/// - Output size: `in · stride` for `same`, `(in − 1)·stride + k` for `valid`.
///   With `same` and stride 2, kernel 3: output pixel `2i + tap` receives
///   input pixel `i`, and the last row/column of the full result is dropped
///   (TensorFlow's padding).
public struct Conv2DTranspose: Layer {
    public let name: String
    public var kind: String { "Conv2DTranspose" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let activation: Activation
    public let padding: Padding
    /// `[kh, kw, filters, inChannels]` (the weights the layer holds: ``Layer/parameters``).
    public var kernel: Tensor { weights.kernel }
    /// `[filters]`.
    public var bias: Tensor { weights.bias }
    /// The kernel's and bias's shapes, and their values when the layer holds them.
    private var weights: KernelAndBias
    /// The convolution this layer is the adjoint of: from the output shape to the input shape.
    let lowered: LoweredConvolution

    /// A transposed convolution with the given weights; throws when their shapes do not fit.
    public init(name: String, inputShape: [Int], kernel: Tensor, bias: Tensor,
                stride: Int, padding: Padding, activation: Activation) throws {
        try self.init(name: name, inputShape: inputShape, weights: KernelAndBias(kernel: kernel, bias: bias),
                      stride: stride, padding: padding, activation: activation)
    }

    /// A transposed convolution with `weights` (held or not); throws when their shapes do not fit.
    private init(name: String, inputShape: [Int], weights: KernelAndBias,
                 stride: Int, padding: Padding, activation: Activation) throws {
        let kernel = (shape: weights.kernelShape, rank: weights.kernelShape.count)
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw DAEError.invalidConfiguration("\(name): input shape \(inputShape) must be [height, width, channels], all positive")
        }
        guard kernel.rank == 4, kernel.shape[3] == inputShape[2], kernel.shape[2] > 0,
              kernel.shape[0] > 0, kernel.shape[1] > 0 else {
            throw DAEError.shapeMismatch("\(name).kernel", expected: [kernel.shape.first ?? 0, kernel.shape.dropFirst().first ?? 0,
                                         kernel.shape.dropFirst(2).first ?? 0, inputShape[2]], actual: kernel.shape)
        }
        guard stride > 0 else { throw DAEError.invalidConfiguration("\(name): stride \(stride) must be positive") }
        let filters = kernel.shape[2]
        guard weights.biasShape == [filters] else {
            throw DAEError.shapeMismatch("\(name).bias", expected: [filters], actual: weights.biasShape)
        }
        let outH = ConvolutionGeometry.transposedOutputSize(input: inputShape[0], kernel: kernel.shape[0], stride: stride, padding: padding)
        let outW = ConvolutionGeometry.transposedOutputSize(input: inputShape[1], kernel: kernel.shape[1], stride: stride, padding: padding)
        let adjoint = try ConvolutionGeometry(
            inputHeight: outH, inputWidth: outW, inputChannels: filters,
            kernelHeight: kernel.shape[0], kernelWidth: kernel.shape[1], stride: stride, padding: padding)
        guard adjoint.outputHeight == inputShape[0], adjoint.outputWidth == inputShape[1] else {
            throw DAEError.invalidConfiguration("\(name): no convolution maps \(outH)x\(outW) back to \(inputShape[0])x\(inputShape[1])")
        }
        self.name = name
        self.inputShape = inputShape
        self.outputShape = [outH, outW, filters]
        self.activation = activation
        self.padding = padding
        self.weights = weights
        self.lowered = LoweredConvolution(geometry: adjoint, outputChannels: inputShape[2])
    }

    /// A transposed convolution with a Glorot-uniform kernel and zero bias drawn from `rng`.
    public init(name: String, inputShape: [Int], filters: Int, kernelSize: Int, stride: Int = 1,
                padding: Padding = .same, activation: Activation = .identity,
                using rng: inout SplitMix64) throws {
        guard inputShape.count == 3, filters > 0, kernelSize > 0 else {
            throw DAEError.invalidConfiguration(
                "\(name): needs an input [height, width, channels] and positive filters and kernel size")
        }
        let kernel = Initializer.glorotUniform(shape: [kernelSize, kernelSize, filters, inputShape[2]], using: &rng)
        try self.init(name: name, inputShape: inputShape, kernel: kernel, bias: Tensor(zeros: [filters]),
                      stride: stride, padding: padding, activation: activation)
    }

    /// The transposed convolution's stride.
    public var stride: Int { lowered.geometry.stride }

    /// This transposed convolution for inputs of `shape` (any height and
    /// width, the same channels): the same kernel, bias and settings.
    public func resized(toInput shape: [Int]) throws -> any Layer {
        guard shape != inputShape else { return self }
        return try Conv2DTranspose(name: name, inputShape: shape, weights: weights, stride: stride,
                                   padding: padding, activation: activation)
    }
    /// The geometry of the convolution this layer is the adjoint of (its input is this layer's output).
    public var adjointGeometry: ConvolutionGeometry { lowered.geometry }

    public var parameterNames: [String] { KernelAndBias.names }
    public var parameterShapes: [[Int]] { weights.shapes }
    public var parameters: [Tensor] { weights.tensors }
    public mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {
        try weights.update(body)
    }
    public func withParameters(_ parameters: [Float]) -> Conv2DTranspose { replacing(\.weights, with: weights.holding(parameters)) }
    public mutating func parametersDidChange(_ parameters: UnsafePointer<Float>) {}

    public func workspaceCount(batch: Int) -> Int { lowered.workspaceCount(batch: batch) }

    /// `parameters`: the kernel `[kh, kw, filters, in]`, then the bias `[filters]`.
    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, parameters: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        // y = bias + col2im(x[N·inH·inW, in] × Kᵀ[in, kh·kw·filters]): the adjoint convolution's input gradient.
        let rows = batch * outputShape[0] * outputShape[1]
        lowered.inputGradient(of: input, weights: parameters, into: output, batch: batch,
                              workspace: workspace, bias: parameters + weights.kernelCount)
        activation.forward(output, count: rows * outputShape[2])
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameters: UnsafePointer<Float>, parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        activationAndBiasBackward(output: output, gradient: outputGradient, biasGradient: parameterGradients[1],
                                  rows: batch * outputShape[0] * outputShape[1],
                                  channels: outputShape[2], activation: activation)
        // dK[kh·kw·filters, in] += patchesᵀ × x[N·inH·inW, in], patches[N·inH·inW, kh·kw·filters] = im2col(dy):
        // the adjoint convolution's weight gradient, with dy as its input and x as its output gradient.
        lowered.accumulateWeightGradient(input: outputGradient, outputGradient: input, into: parameterGradients[0],
                                         batch: batch, workspace: workspace, patchesInWorkspace: false)
        guard let inputGradient else { return }
        // dx[N·inH·inW, in] = patches × K[kh·kw·filters, in]: the adjoint convolution's forward pass (same patches).
        lowered.forward(outputGradient, weights: parameters, into: inputGradient, batch: batch,
                        workspace: workspace, patchesInWorkspace: true)
    }
}
