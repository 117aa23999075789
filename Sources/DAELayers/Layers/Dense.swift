/// A fully connected layer, as Keras's `Dense`: `y = activation(x·K + b)`.
///
/// Kernel layout: Keras's `[inFeatures, units]`. The batch is one GEMM:
/// `y[N, units] = x[N, in] × K[in, units]`.
public struct Dense: Layer {
    public let name: String
    public var kind: String { "Dense" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let activation: Activation
    /// `[inFeatures, units]` (the weights the layer holds: ``Layer/parameters``).
    public var kernel: Tensor { weights.kernel }
    /// `[units]`.
    public var bias: Tensor { weights.bias }
    /// The kernel's and bias's shapes, and their values when the layer holds them.
    private var weights: KernelAndBias

    /// A dense layer with the given weights; throws when their shapes do not fit.
    public init(name: String, kernel: Tensor, bias: Tensor, activation: Activation = .identity) throws {
        guard kernel.rank == 2, kernel.shape.allSatisfy({ $0 > 0 }) else {
            throw DAEError.shapeMismatch("\(name).kernel (needs [inFeatures, units], both positive)",
                                         expected: [kernel.shape.first ?? 0, kernel.shape.last ?? 0], actual: kernel.shape)
        }
        try bias.checkShape([kernel.shape[1]], "\(name).bias")
        self.name = name
        self.inputShape = [kernel.shape[0]]
        self.outputShape = [kernel.shape[1]]
        self.activation = activation
        self.weights = KernelAndBias(kernel: kernel, bias: bias)
    }

    /// A dense layer with a Glorot-uniform kernel and zero bias drawn from `rng`.
    public init(name: String, inputFeatures: Int, units: Int, activation: Activation = .identity,
                using rng: inout SplitMix64) throws {
        guard inputFeatures > 0, units > 0 else {
            throw DAEError.invalidConfiguration("\(name): input features \(inputFeatures) and units \(units) must be positive")
        }
        try self.init(name: name, kernel: Initializer.glorotUniform(shape: [inputFeatures, units], using: &rng),
                      bias: Tensor(zeros: [units]), activation: activation)
    }

    public var parameterNames: [String] { KernelAndBias.names }
    public var parameterShapes: [[Int]] { weights.shapes }
    public var parameters: [Tensor] { weights.tensors }
    public mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {
        try weights.update(body)
    }
    public func withParameters(_ parameters: [Float]) -> Dense { replacing(\.weights, with: weights.holding(parameters)) }
    public mutating func parametersDidChange(_ parameters: UnsafePointer<Float>) {}

    public func workspaceCount(batch: Int) -> Int { 0 }

    /// `parameters`: the kernel `[in, units]`, then the bias `[units]`.
    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, parameters: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>) {
        let (features, units) = (inputShape[0], outputShape[0])
        // y[N, units] = bias + x[N, in] × K[in, units]
        VectorKernels.broadcastRows(parameters + weights.kernelCount, into: output, rowCount: batch, channels: units)
        BLAS.gemm(m: batch, n: units, k: features, a: input, lda: features,
                  b: parameters, ldb: units, beta: 1, c: output, ldc: units)
        activation.forward(output, count: batch * units)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameters: UnsafePointer<Float>, parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        let (features, units) = (inputShape[0], outputShape[0])
        activationAndBiasBackward(output: output, gradient: outputGradient, biasGradient: parameterGradients[1],
                                  rows: batch, channels: units, activation: activation)
        // dK[in, units] += xᵀ[in, N] × dy[N, units]
        BLAS.gemm(transposeA: true, m: features, n: units, k: batch, a: input, lda: features,
                  b: outputGradient, ldb: units, beta: 1, c: parameterGradients[0], ldc: units)
        guard let inputGradient else { return }
        // dx[N, in] = dy[N, units] × Kᵀ[units, in]
        BLAS.gemm(transposeB: true, m: batch, n: features, k: units, a: outputGradient, lda: units,
                  b: parameters, ldb: units, c: inputGradient, ldc: features)
    }
}
