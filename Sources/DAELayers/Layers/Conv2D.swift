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
    /// `[kh, kw, inChannels, filters]` (the weights the layer holds: ``Layer/parameters``).
    public var kernel: Tensor { weights.kernel }
    /// `[filters]`.
    public var bias: Tensor { weights.bias }
    /// The kernel's and bias's shapes, and their values when the layer holds them.
    private var weights: KernelAndBias
    let lowered: LoweredConvolution
    /// The Winograd F(2×2, 3×3) forward pass with this kernel, transformed,
    /// when switched on (``withWinograd(_:)``; `WinogradConvolution.swift`).
    private(set) var winograd: WinogradConvolution?
    /// The input gradient as a Winograd convolution of ∂L/∂y (the kernel
    /// rotated and transposed, `WinogradGradients.swift`), when switched on
    /// and the padding is `same`; nil: im2col + GEMM.
    private(set) var winogradInputGradient: WinogradConvolution?
    /// Whether the weight gradient runs in the Winograd domain when switched
    /// on (``winogradWeightGradients`` when it was switched on), else im2col + GEMM.
    private(set) var winogradWeightGradient = false
    /// The Winograd F(4×4, 3×3) forward pass with this kernel, transformed,
    /// when switched on instead (``withWinogradF4(_:gradients:f4WeightGradient:)``;
    /// `WinogradF4Convolution.swift`). For inference alone the gradients
    /// run as im2col + GEMM; with the gradients switched on too, see
    /// ``winogradF4InputGradient``.
    private(set) var winogradF4: WinogradF4Convolution?
    /// With F(4×4) gradients (training): the input gradient as an F(4×4)
    /// convolution of ∂L/∂y with the kernel rotated 180° and transposed
    /// (`same` padding; nil: im2col + GEMM), while ``winograd`` holds the
    /// F(2×2) pass whose weight gradient (in its Winograd domain) is used,
    /// unless ``winogradF4WeightGradient``.
    private(set) var winogradF4InputGradient: WinogradF4Convolution?
    /// With F(4×4) gradients: the weight gradient runs in F(4×4)'s own
    /// Winograd domain (`WinogradF4Gradients.swift`; ``winograd`` is nil).
    private(set) var winogradF4WeightGradient = false

    /// A convolution with the given weights; throws when their shapes do not fit.
    public init(name: String, inputShape: [Int], kernel: Tensor, bias: Tensor,
                stride: Int, padding: Padding, activation: Activation) throws {
        try self.init(name: name, inputShape: inputShape, weights: KernelAndBias(kernel: kernel, bias: bias),
                      stride: stride, padding: padding, activation: activation)
    }

    /// A convolution with `weights` (held or not); throws when their shapes do not fit.
    private init(name: String, inputShape: [Int], weights: KernelAndBias,
                 stride: Int, padding: Padding, activation: Activation) throws {
        let kernel = (shape: weights.kernelShape, rank: weights.kernelShape.count)
        guard inputShape.count == 3 else {
            throw DAEError.invalidConfiguration("\(name): input shape \(inputShape) must be [height, width, channels]")
        }
        guard kernel.rank == 4, kernel.shape[2] == inputShape[2], kernel.shape[3] > 0 else {
            throw DAEError.shapeMismatch("\(name).kernel", expected: [kernel.shape.first ?? 0, kernel.shape.dropFirst().first ?? 0, inputShape[2],
                                         kernel.shape.last ?? 0], actual: kernel.shape)
        }
        guard weights.biasShape == [kernel.shape[3]] else {
            throw DAEError.shapeMismatch("\(name).bias", expected: [kernel.shape[3]], actual: weights.biasShape)
        }
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
        self.weights = weights
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

    public var parameterNames: [String] { KernelAndBias.names }
    public var parameterShapes: [[Int]] { weights.shapes }
    public var parameters: [Tensor] { weights.tensors }
    public mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {
        try weights.update(body)
        // The transformed kernels follow the weights.
        if winograd != nil || winogradF4 != nil { withHeldParameters { parametersDidChange($0) } }
    }
    public func withParameters(_ parameters: [Float]) -> Conv2D { replacing(\.weights, with: weights.holding(parameters)) }
    /// Transforms the new kernel again when the passes run as Winograd (keeping ``winogradThreads``).
    public mutating func parametersDidChange(_ parameters: UnsafePointer<Float>) {
        let threads = winogradThreads
        if winogradF4 != nil {
            switchWinogradF4(on: true, gradients: usesWinogradF4Gradients, f4WeightGradient: winogradF4WeightGradient, kernel: parameters)
        } else if winograd != nil {
            switchWinograd(on: true, weightGradient: winogradWeightGradient, kernel: parameters)
        }
        if threads > 1 { self = withWinogradThreads(threads) }
    }

    /// Builds (transforming `kernel`) or drops the Winograd passes.
    private mutating func switchWinograd(on: Bool, weightGradient: Bool, kernel: UnsafePointer<Float>) {
        (winogradF4, winogradF4InputGradient, winogradF4WeightGradient) = (nil, nil, false)
        guard on, supportsWinograd else {
            (winograd, winogradInputGradient, winogradWeightGradient) = (nil, nil, false)
            return
        }
        let forward = WinogradConvolution(geometry: lowered.geometry, weights: kernel, outputChannels: lowered.outputChannels)
        (winograd, winogradInputGradient, winogradWeightGradient) = (forward, forward.inputGradientConvolution(), weightGradient)
    }

    /// Builds (transforming `kernel`) or drops the F(4×4, 3×3) forward pass,
    /// and with `gradients` its input gradient and the weight gradient (in
    /// F(4×4)'s domain with `f4WeightGradient`, else F(2×2)'s); drops the
    /// F(2×2) passes otherwise.
    private mutating func switchWinogradF4(on: Bool, gradients: Bool, f4WeightGradient: Bool, kernel: UnsafePointer<Float>) {
        (winograd, winogradInputGradient, winogradWeightGradient) = (nil, nil, false)
        (winogradF4InputGradient, winogradF4WeightGradient) = (nil, false)
        guard on, supportsWinograd else {
            winogradF4 = nil
            return
        }
        let geometry = lowered.geometry, (cin, cout) = (geometry.inputChannels, lowered.outputChannels)
        winogradF4 = WinogradF4Convolution(geometry: geometry, weights: kernel, outputChannels: cout)
        guard gradients else { return }
        if f4WeightGradient {
            winogradF4WeightGradient = true
        } else {
            winograd = WinogradConvolution(geometry: geometry, weights: kernel, outputChannels: cout)
            winogradWeightGradient = true
        }
        guard let gradientGeometry = WinogradConvolution.inputGradientGeometry(of: geometry, outputChannels: cout) else { return }
        // K'[i][j][f][c] = K[2 − i][2 − j][c][f]: rotated 180°, input and output channels swapped.
        let rotated = [Float](unsafeUninitializedCapacity: 9 * cin * cout) { buffer, initialized in
            for i in 0..<3 {
                for j in 0..<3 {
                    let source = kernel + ((2 - i) * 3 + (2 - j)) * cin * cout, destination = buffer.baseAddress! + (i * 3 + j) * cout * cin
                    for f in 0..<cout {
                        for c in 0..<cin { destination[f * cin + c] = source[c * cout + f] }
                    }
                }
            }
            initialized = 9 * cin * cout
        }
        winogradF4InputGradient = rotated.withUnsafeBufferPointer {
            WinogradF4Convolution(geometry: gradientGeometry, weights: $0.baseAddress!, outputChannels: cin)
        }
    }

    /// True for a 3×3, stride-1 convolution that is lowered to GEMMs (not a
    /// few-channel one on direct loops): one whose forward pass can run as Winograd F(2×2, 3×3).
    public var supportsWinograd: Bool { WinogradConvolution.supports(lowered.geometry) }
    /// True when the forward pass runs as Winograd: F(2×2, 3×3) (``withWinograd(_:)``)
    /// or F(4×4, 3×3) (``withWinogradF4(_:gradients:f4WeightGradient:)``).
    public var usesWinograd: Bool { winograd != nil || winogradF4 != nil }
    /// How far from an output pixel (at the layer's resolution) an input
    /// pixel can change its rounding when the forward pass runs as Winograd
    /// F(4×4, 3×3): 3 (1 for F(2×2), im2col + GEMM and direct loops); the halo
    /// of exact tiled inference adds it up (`WinogradF4Convolution.swift`).
    public static var winogradF4RoundingRadius: Int { WinogradF4Convolution.roundingRadius }
    /// How far to the left and to the right of an output pixel, by its place
    /// (0…3) in its 4-pixel Winograd F(4×4, 3×3) tile, the input pixels its
    /// rounding depends on lie (the same up and down): `left[k]`, `right[k]`.
    public static var winogradF4Reach: (left: [Int], right: [Int]) { WinogradF4Convolution.reach }
    /// True when the forward pass runs as Winograd F(4×4, 3×3).
    public var usesWinogradF4: Bool { winogradF4 != nil }
    /// Threads the Winograd forward pass splits its blocks of tiles across
    /// (``withWinogradThreads(_:)``; 1 unless set, and without Winograd).
    public var winogradThreads: Int { winogradF4?.threads ?? winograd?.threads ?? 1 }

    /// This convolution with its Winograd forward pass (F(2×2) or F(4×4), if
    /// switched on) split across `threads` threads: for inference on one
    /// image too few tiles to keep every core busy otherwise (tiled
    /// inference in DAEKit). The same bits; a workspace `threads` times as
    /// large. Not for a network whose passes already run on several threads
    /// (a `DataParallelEngine`'s workers each running a shard): the threads would oversubscribe the cores.
    /// New weights keep the setting; switching Winograd on or off
    /// (``withWinograd(_:)``, ``withWinogradF4(_:gradients:f4WeightGradient:)``) resets it to 1.
    public func withWinogradThreads(_ threads: Int) -> Conv2D {
        var layer = self
        layer.winogradF4?.threads = max(1, threads)
        layer.winograd?.threads = max(1, threads)
        return layer
    }
    /// True when the forward pass runs as Winograd F(4×4, 3×3) with its
    /// gradients switched on too (``withWinogradF4(_:gradients:f4WeightGradient:)``, for training).
    public var usesWinogradF4Gradients: Bool { winogradF4 != nil && (winograd != nil || winogradF4WeightGradient) }
    /// True when the weight gradient runs in Winograd F(4×4, 3×3)'s own
    /// domain (``withWinogradF4(_:gradients:f4WeightGradient:)`` with `f4WeightGradient`).
    public var usesWinogradF4WeightGradient: Bool { winogradF4WeightGradient }
    /// True when the input gradient runs as Winograd too (a `same` layer
    /// switched on): F(2×2, 3×3), or F(4×4, 3×3) with ``withWinogradF4(_:gradients:f4WeightGradient:)``.
    public var usesWinogradInputGradient: Bool { winogradInputGradient != nil || winogradF4InputGradient != nil }
    /// True when the weight gradient runs in a Winograd domain too: F(2×2)'s or F(4×4)'s.
    public var usesWinogradWeightGradient: Bool { (winograd != nil && winogradWeightGradient) || winogradF4WeightGradient }

    /// Whether layers switched on from now on compute their weight gradient
    /// in the Winograd domain (else im2col + GEMM): a benchmark's knob; the
    /// default was measured (Docs/Benchmarks.md, "Winograd in training").
    /// Not thread-safe: set it before running anything.
    nonisolated(unsafe) public static var winogradWeightGradients = true

    /// This layer with its passes as Winograd F(2×2, 3×3) (`enabled`, where
    /// ``supportsWinograd``) or as im2col + GEMM. Switched on, the forward pass,
    /// the input gradient (`same` padding: the convolution of ∂L/∂y with the
    /// kernel rotated 180° and transposed; `valid` keeps im2col + GEMM) and the
    /// weight gradient (in the Winograd domain, unless ``winogradWeightGradients``
    /// was off) run as Winograd; see `WinogradGradients.swift`. The kernel is
    /// transformed here, once, and again whenever the parameters change.
    /// Results differ from the GEMM's in the last bits (Docs/Benchmarks.md
    /// gives the errors).
    public func withWinograd(_ enabled: Bool = true) -> Conv2D {
        withWinograd(enabled, weightGradient: Self.winogradWeightGradients)
    }

    /// ``withWinograd(_:)`` with the weight gradient's path given (in the
    /// Winograd domain, or im2col + GEMM) instead of ``winogradWeightGradients``.
    package func withWinograd(_ enabled: Bool, weightGradient: Bool) -> Conv2D {
        withHeldParameters { withWinograd(enabled, weightGradient: weightGradient, parameters: $0) }
    }

    /// ``withWinograd(_:weightGradient:)`` with the weights at `parameters`
    /// (flat: kernel, bias), for a layer whose network holds its weights.
    package func withWinograd(_ enabled: Bool, weightGradient: Bool, parameters: UnsafePointer<Float>) -> Conv2D {
        var layer = self
        layer.switchWinograd(on: enabled, weightGradient: weightGradient, kernel: parameters)
        return layer
    }

    /// This layer with its forward pass as Winograd F(4×4, 3×3) (`enabled`,
    /// where ``supportsWinograd``); `false`: im2col + GEMM. For inference
    /// (`gradients` false) the gradients run as im2col + GEMM. For training
    /// (`gradients`), the input gradient runs as F(4×4, 3×3) too (`same`
    /// padding: the convolution of ∂L/∂y with the kernel rotated 180° and
    /// transposed) and the weight gradient in a Winograd domain: F(4×4,
    /// 3×3)'s own with `f4WeightGradient` (`WinogradF4Gradients.swift`, the
    /// fastest), else F(2×2, 3×3)'s (`WinogradGradients.swift`, as runs
    /// recorded before the F(4×4) weight gradient existed computed it).
    /// F(2×2, 3×3) alone is switched off. The kernel is transformed here,
    /// once, and again whenever the parameters change. Results differ from
    /// F(2×2)'s in the last bits, and a pixel's rounding depends on input
    /// pixels up to 3 away (tiled inference allows for it:
    /// `WinogradF4Convolution.swift`).
    public func withWinogradF4(_ enabled: Bool = true, gradients: Bool = false, f4WeightGradient: Bool = false) -> Conv2D {
        withHeldParameters {
            withWinogradF4(enabled, gradients: gradients, f4WeightGradient: f4WeightGradient, parameters: $0)
        }
    }

    /// ``withWinogradF4(_:gradients:f4WeightGradient:)`` with the weights at `parameters` (flat: kernel, bias).
    package func withWinogradF4(_ enabled: Bool, gradients: Bool = false, f4WeightGradient: Bool = false,
                                parameters: UnsafePointer<Float>) -> Conv2D {
        var layer = self
        layer.switchWinogradF4(on: enabled, gradients: gradients, f4WeightGradient: f4WeightGradient, kernel: parameters)
        return layer
    }

    /// This convolution for inputs of `shape` (any height and width, the
    /// same channels): the same kernel, bias and settings, and the same
    /// Winograd transformed kernel when switched on (not transformed again).
    public func resized(toInput shape: [Int]) throws -> any Layer {
        guard shape != inputShape else { return self }
        var layer = try Conv2D(name: name, inputShape: shape, weights: weights, stride: stride,
                               padding: padding, activation: activation)
        layer.winograd = winograd?.resized(to: layer.lowered.geometry)
        layer.winogradF4 = winogradF4?.resized(to: layer.lowered.geometry)
        layer.winogradWeightGradient = winogradWeightGradient
        layer.winogradF4WeightGradient = winogradF4WeightGradient
        let gradientGeometry = WinogradConvolution.inputGradientGeometry(of: layer.lowered.geometry, outputChannels: layer.lowered.outputChannels)
        if let inputGradient = winogradF4InputGradient {
            layer.winogradF4InputGradient = gradientGeometry.map { inputGradient.resized(to: $0) }
        }
        if let inputGradient = winogradInputGradient {
            layer.winogradInputGradient = gradientGeometry.map { inputGradient.resized(to: $0) }
        }
        return layer
    }

    /// The scratch of the three passes: a Winograd layer's blocks, plus the
    /// patch matrix only where a gradient stays im2col + GEMM.
    public func workspaceCount(batch: Int) -> Int {
        let lowered = lowered.workspaceCount(batch: batch)
        if let winogradF4 {
            // Training: the weight gradient (F(4×4)'s or F(2×2)'s), the F(4×4) input gradient (or im2col + GEMM's).
            let weightGradient = winogradF4WeightGradient ? winogradF4.weightGradientWorkspaceCount(batch: batch)
                : winograd?.weightGradientWorkspaceCount(batch: batch)
            guard let weightGradient else { return max(winogradF4.workspaceCount(batch: batch), lowered) }
            return max(winogradF4.workspaceCount(batch: batch), weightGradient,
                       winogradF4InputGradient?.workspaceCount(batch: batch) ?? lowered)
        }
        guard let winograd else { return lowered }
        return max(winograd.workspaceCount(batch: batch),
                   winogradWeightGradient ? winograd.weightGradientWorkspaceCount(batch: batch) : lowered,
                   winogradInputGradient?.workspaceCount(batch: batch) ?? lowered)
    }

    /// The Winograd pass's blocks only, when it runs (no patch matrix: that is the backward pass's).
    public func forwardWorkspaceCount(batch: Int) -> Int {
        winogradF4?.workspaceCount(batch: batch) ?? winograd?.workspaceCount(batch: batch) ?? lowered.workspaceCount(batch: batch)
    }

    /// `parameters`: the kernel `[kh, kw, in, filters]`, then the bias `[filters]`
    /// (a Winograd pass reads only the bias: its kernel is the transformed one it keeps).
    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, parameters: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let bias = parameters + weights.kernelCount
        if let winogradF4 {
            winogradF4.forward(input, into: output, batch: batch, workspace: workspace, bias: bias, relu: activation == .relu)
            if activation != .relu { activation.forward(output, count: batch * lowered.geometry.outputPixels * lowered.outputChannels) }
            return
        }
        if let winograd {
            winograd.forward(input, into: output, batch: batch, workspace: workspace, bias: bias, relu: activation == .relu)
            if activation != .relu { activation.forward(output, count: batch * lowered.geometry.outputPixels * lowered.outputChannels) }
            return
        }
        // y[N·outH·outW, filters] = bias + patches[N·outH·outW, kh·kw·in] × K[kh·kw·in, filters]
        lowered.forward(input, weights: parameters, into: output, batch: batch, workspace: workspace, bias: bias)
        let rows = batch * lowered.geometry.outputPixels
        activation.forward(output, count: rows * lowered.outputChannels)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameters: UnsafePointer<Float>, parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        activationAndBiasBackward(output: output, gradient: outputGradient, biasGradient: parameterGradients[1],
                                  rows: batch * lowered.geometry.outputPixels,
                                  channels: lowered.outputChannels, activation: activation)
        accumulateWeightGradient(input: input, outputGradient: outputGradient, into: parameterGradients[0],
                                 batch: batch, workspace: workspace)
        guard let inputGradient else { return }
        self.inputGradient(of: outputGradient, into: inputGradient, batch: batch, kernel: parameters, workspace: workspace)
    }

    /// `weightGradient += ∂L/∂kernel` given `outputGradient` (∂L/∂y after the
    /// activation's and bias's backward), the second half of ``backward(input:output:outputGradient:inputGradient:parameters:parameterGradients:batch:workspace:)``
    /// (also run alone by the benchmark).
    ///
    /// - im2col + GEMM: `dK[kh·kw·in, filters] += patchesᵀ × dy[N·outH·outW, filters]`,
    ///   with the patch matrix the lowered forward pass left in the workspace
    ///   (after a Winograd forward pass, which writes none, im2col again);
    /// - Winograd (``usesWinogradWeightGradient``): per block of T tiles, E GEMMs
    ///   `dU[e] += V[:, e, :]ᵀ · dM[:, e, :]`, `[Cin × T] · [T × Cout]`, then `dK += Gᵀ dU G`
    ///   (E = 36 in F(4×4)'s domain, 16 in F(2×2)'s).
    package func accumulateWeightGradient(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
                                          into weightGradient: UnsafeMutablePointer<Float>, batch: Int,
                                          workspace: UnsafeMutablePointer<Float>) {
        if let winogradF4, winogradF4WeightGradient {
            winogradF4.accumulateWeightGradient(input: input, outputGradient: outputGradient, into: weightGradient,
                                                batch: batch, workspace: workspace)
            return
        }
        if let winograd, winogradWeightGradient {
            winograd.accumulateWeightGradient(input: input, outputGradient: outputGradient, into: weightGradient,
                                              batch: batch, workspace: workspace)
            return
        }
        lowered.accumulateWeightGradient(input: input, outputGradient: outputGradient, into: weightGradient,
                                         batch: batch, workspace: workspace, patchesInWorkspace: winograd == nil && winogradF4 == nil)
    }

    /// `inputGradient` (overwritten) = ∂L/∂x given `outputGradient` (∂L/∂y
    /// after the activation's and bias's backward); overwrites the workspace.
    ///
    /// - im2col + GEMM: `dx = col2im(dy[N·outH·outW, filters] × Kᵀ[filters, kh·kw·in])`;
    /// - Winograd (``usesWinogradInputGradient``, `same` padding): the Winograd
    ///   convolution of dy with the kernel rotated 180° and transposed, 16 GEMMs
    ///   `[T × Cout] · [Cout × Cin]` per block of T tiles.
    package func inputGradient(of outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>,
                               batch: Int, workspace: UnsafeMutablePointer<Float>) {
        withHeldParameters { self.inputGradient(of: outputGradient, into: inputGradient, batch: batch, kernel: $0, workspace: workspace) }
    }

    /// ``inputGradient(of:into:batch:workspace:)`` with the kernel at `kernel`
    /// (read by the im2col + GEMM path; a Winograd one keeps its own, transformed).
    package func inputGradient(of outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>,
                               batch: Int, kernel: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        if let winogradF4InputGradient {
            winogradF4InputGradient.forward(outputGradient, into: inputGradient, batch: batch, workspace: workspace,
                                            bias: nil, relu: false)
            return
        }
        if let winogradInputGradient {
            winogradInputGradient.forward(outputGradient, into: inputGradient, batch: batch, workspace: workspace,
                                          bias: nil, relu: false)
            return
        }
        // The workspace's patches are no longer needed and are overwritten.
        lowered.inputGradient(of: outputGradient, weights: kernel, into: inputGradient, batch: batch, workspace: workspace)
    }
}
