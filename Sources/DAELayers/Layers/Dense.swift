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
    /// `[inFeatures, units]`.
    public private(set) var kernel: Tensor
    /// `[units]`.
    public private(set) var bias: Tensor

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
        self.kernel = kernel
        self.bias = bias
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

    public var parameterNames: [String] { ["kernel", "bias"] }
    public var parameters: [Tensor] { [kernel, bias] }
    public mutating func updateParameters(_ body: (Int, inout Tensor) throws -> Void) rethrows {
        try body(0, &kernel)
        try body(1, &bias)
    }

    public func workspaceCount(batch: Int) -> Int { 0 }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, workspace: UnsafeMutablePointer<Float>) {
        let (features, units) = (inputShape[0], outputShape[0])
        // y[N, units] = bias + x[N, in] × K[in, units]
        bias.withUnsafeBufferPointer { b in
            VectorKernels.broadcastRows(b.baseAddress!, into: output, rowCount: batch, channels: units)
        }
        kernel.withUnsafeBufferPointer { k in
            BLAS.gemm(m: batch, n: units, k: features, a: input, lda: features,
                      b: k.baseAddress!, ldb: units, beta: 1, c: output, ldc: units)
        }
        activation.forward(output, count: batch * units)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        let (features, units) = (inputShape[0], outputShape[0])
        activationAndBiasBackward(output: output, gradient: outputGradient, biasGradient: parameterGradients[1],
                                  rows: batch, channels: units, activation: activation)
        // dK[in, units] += xᵀ[in, N] × dy[N, units]
        BLAS.gemm(transposeA: true, m: features, n: units, k: batch, a: input, lda: features,
                  b: outputGradient, ldb: units, beta: 1, c: parameterGradients[0], ldc: units)
        guard let inputGradient else { return }
        // dx[N, in] = dy[N, units] × Kᵀ[units, in]
        kernel.withUnsafeBufferPointer { k in
            BLAS.gemm(transposeB: true, m: batch, n: features, k: units, a: outputGradient, lda: units,
                      b: k.baseAddress!, ldb: units, c: inputGradient, ldc: features)
        }
    }
}
