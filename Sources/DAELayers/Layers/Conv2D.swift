/// A 2-D convolution over NHWC images, as Keras's `Conv2D`:
/// `y = activation(conv(x, kernel) + bias)`, a cross-correlation (no kernel flip).
///
/// - Kernel layout: Keras's `[kh, kw, inChannels, filters]`, which read as a
///   matrix `[kh·kw·in, filters]` is the right-hand operand of the lowered GEMM.
/// - Computation: im2col + one GEMM for the whole batch; with one input
///   channel (a first layer reading grey images), or up to four on a CPU
///   with AVX2 (RGB, RGBA), direct loops instead
///   (``ConvolutionGeometry/usesDirectLoops``).
/// - Output size: `ceil(in / stride)` for `same` (TensorFlow's asymmetric
///   padding, extra pixel bottom/right), `floor((in − k) / stride) + 1` for `valid`.
///
/// ```swift
/// var rng = SplitMix64(seed: 1)
/// let conv = try Conv2D(name: "conv", inputShape: [28, 28, 1], filters: 32, kernelSize: 3,
///                       stride: 2, padding: .same, activation: .relu, using: &rng)
/// let y = try conv(x)            // [n, 14, 14, 32]
/// ```
public struct Conv2D: Layer {
    public let name: String
    public var kind: String { "Conv2D" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let activation: Activation
    public let padding: Padding
    /// `[kh, kw, inChannels, filters]`.
    public private(set) var kernel: Tensor
    /// `[filters]`.
    public private(set) var bias: Tensor
    let lowered: LoweredConvolution
    /// The Winograd F(2×2, 3×3) forward pass with this kernel, transformed,
    /// when switched on (``withWinograd(_:)``; `WinogradConvolution.swift`).
    private(set) var winograd: WinogradConvolution?

    /// A convolution with the given weights; throws when their shapes do not fit.
    public init(name: String, inputShape: [Int], kernel: Tensor, bias: Tensor,
                stride: Int, padding: Padding, activation: Activation) throws {
        guard inputShape.count == 3 else {
            throw DAEError.invalidConfiguration("\(name): input shape \(inputShape) must be [height, width, channels]")
        }
        guard kernel.rank == 4, kernel.shape[2] == inputShape[2], kernel.shape[3] > 0 else {
            throw DAEError.shapeMismatch("\(name).kernel", expected: [kernel.shape.first ?? 0, kernel.shape.dropFirst().first ?? 0, inputShape[2],
                                         kernel.shape.last ?? 0], actual: kernel.shape)
        }
        try bias.checkShape([kernel.shape[3]], "\(name).bias")
        let geometry: ConvolutionGeometry
        do {
            geometry = try ConvolutionGeometry(
                inputHeight: inputShape[0], inputWidth: inputShape[1], inputChannels: inputShape[2],
                kernelHeight: kernel.shape[0], kernelWidth: kernel.shape[1], stride: stride, padding: padding)
        } catch DAEError.invalidConfiguration(let reason) {
            // Name the layer: in a network of several convolutions the geometry alone does not say which.
            throw DAEError.invalidConfiguration("\(name): \(reason)")
        }
        self.name = name
        self.inputShape = inputShape
        self.outputShape = [geometry.outputHeight, geometry.outputWidth, kernel.shape[3]]
        self.activation = activation
        self.padding = padding
        self.kernel = kernel
        self.bias = bias
        self.lowered = LoweredConvolution(geometry: geometry, outputChannels: kernel.shape[3])
    }

    /// A convolution with a kernel drawn from `rng` and a zero bias;
    /// `kernelInitializer` draws the kernel (Keras's default, Glorot uniform, unless told).
    public init(name: String, inputShape: [Int], filters: Int, kernelSize: Int, stride: Int = 1,
                padding: Padding = .same, activation: Activation = .identity,
                kernelInitializer: KernelInitializer = .glorotUniform, using rng: inout SplitMix64) throws {
        guard inputShape.count == 3, filters > 0, kernelSize > 0 else {
            throw DAEError.invalidConfiguration(
                "\(name): needs an input [height, width, channels] and positive filters and kernel size")
        }
        let kernel = kernelInitializer.kernel(shape: [kernelSize, kernelSize, inputShape[2], filters], using: &rng)
        try self.init(name: name, inputShape: inputShape, kernel: kernel, bias: Tensor(zeros: [filters]),
                      stride: stride, padding: padding, activation: activation)
    }

    /// The convolution's stride.
    public var stride: Int { lowered.geometry.stride }
    /// The index arithmetic of this convolution.
    public var geometry: ConvolutionGeometry { lowered.geometry }

    public var parameterNames: [String] { ["kernel", "bias"] }
    public var parameters: [Tensor] { [kernel, bias] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {
        defer { if winograd != nil { winograd = makeWinograd() } }   // the transformed kernel follows the weights
        try body(0, &kernel)
        try body(1, &bias)
    }

    /// The Winograd form of this convolution, or nil.
    private func makeWinograd() -> WinogradConvolution? {
        guard supportsWinograd else { return nil }
        return kernel.withUnsafeBufferPointer { k in
            WinogradConvolution(geometry: lowered.geometry, weights: k.baseAddress!, outputChannels: lowered.outputChannels)
        }
    }

    /// True for a 3×3, stride-1 convolution that is lowered to GEMMs (not a
    /// few-channel one on direct loops): one whose forward pass can run as Winograd F(2×2, 3×3).
    public var supportsWinograd: Bool { WinogradConvolution.supports(lowered.geometry) }
    /// True when the forward pass runs as Winograd F(2×2, 3×3) (``withWinograd(_:)``).
    public var usesWinograd: Bool { winograd != nil }

    /// This layer with its forward pass as Winograd F(2×2, 3×3) (`enabled`,
    /// where ``supportsWinograd``) or as im2col + GEMM. The kernel is
    /// transformed here, once, and again whenever the parameters change.
    /// The backward pass stays im2col + GEMM (it rebuilds the patch matrix
    /// the Winograd forward pass did not write). Results differ from the
    /// GEMM's in the last bits (Docs/Benchmarks.md gives the error).
    public func withWinograd(_ enabled: Bool = true) -> Conv2D {
        var layer = self
        layer.winograd = enabled ? makeWinograd() : nil
        return layer
    }

    /// This convolution for inputs of `shape` (any height and width, the
    /// same channels): the same kernel, bias and settings, and the same
    /// Winograd transformed kernel when switched on (not transformed again).
    public func resized(toInput shape: [Int]) throws -> any Layer {
        guard shape != inputShape else { return self }
        var layer = try Conv2D(name: name, inputShape: shape, kernel: kernel, bias: bias, stride: stride,
                               padding: padding, activation: activation)
        layer.winograd = winograd?.resized(to: layer.lowered.geometry)
        return layer
    }

    public func workspaceCount(batch: Int) -> Int {
        let lowered = lowered.workspaceCount(batch: batch)
        guard let winograd else { return lowered }
        return max(lowered, winograd.workspaceCount(batch: batch))
    }

    /// The Winograd pass's blocks only, when it runs (no patch matrix: that is the backward pass's).
    public func forwardWorkspaceCount(batch: Int) -> Int {
        winograd?.workspaceCount(batch: batch) ?? lowered.workspaceCount(batch: batch)
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, workspace: UnsafeMutablePointer<Float>) {
        if let winograd {
            bias.withUnsafeBufferPointer { b in
                winograd.forward(input, into: output, batch: batch, workspace: workspace, bias: b.baseAddress!,
                                 relu: activation == .relu)
            }
            if activation != .relu { activation.forward(output, count: batch * lowered.geometry.outputPixels * lowered.outputChannels) }
            return
        }
        // y[N·outH·outW, filters] = bias + patches[N·outH·outW, kh·kw·in] × K[kh·kw·in, filters]
        kernel.withUnsafeBufferPointer { k in
            bias.withUnsafeBufferPointer { b in
                lowered.forward(input, weights: k.baseAddress!, into: output, batch: batch,
                                workspace: workspace, bias: b.baseAddress!)
            }
        }
        let rows = batch * lowered.geometry.outputPixels
        activation.forward(output, count: rows * lowered.outputChannels)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        activationAndBiasBackward(output: output, gradient: outputGradient, biasGradient: parameterGradients[1],
                                  rows: batch * lowered.geometry.outputPixels,
                                  channels: lowered.outputChannels, activation: activation)
        // dK[kh·kw·in, filters] += patchesᵀ × dy[N·outH·outW, filters]; the lowered forward
        // pass left the patch matrix in the workspace (the Winograd one did not: im2col again).
        lowered.accumulateWeightGradient(input: input, outputGradient: outputGradient, into: parameterGradients[0],
                                         batch: batch, workspace: workspace, patchesInWorkspace: winograd == nil)
        guard let inputGradient else { return }
        // dx = col2im(dy × Kᵀ); the workspace's patches are no longer needed and are overwritten.
        kernel.withUnsafeBufferPointer { k in
            lowered.inputGradient(of: outputGradient, weights: k.baseAddress!, into: inputGradient,
                                  batch: batch, workspace: workspace)
        }
    }
}
