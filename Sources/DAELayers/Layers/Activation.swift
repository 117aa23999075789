import Foundation

/// An element-wise activation, applied in place after a layer's bias.
///
/// Forward and backward sit side by side. The backward pass needs only the
/// activation's *output* `y`: ReLU′ = [y > 0] and σ′ = y·(1 − y), so no
/// pre-activation buffer is kept.
public enum Activation: String, Sendable, Codable, CaseIterable {
    /// `y = x`.
    case identity
    /// `y = max(x, 0)`; its derivative at 0 is taken as 0, as in TensorFlow.
    case relu
    /// `y = 1 / (1 + e^(−x))`; finite for every finite or infinite `x`.
    case sigmoid

    /// Replaces each of the `count` values with its activation.
    public func forward(_ values: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity:
            break
        case .relu:
            VectorKernels.relu(values, count: count)
        case .sigmoid:
            // e^(−x) overflows to +inf for x < −88, and 1/(1 + inf) = 0: still exact.
            for i in 0..<count { values[i] = 1 / (1 + Foundation.exp(-values[i])) }
        }
    }

    /// Turns `gradient` (∂L/∂y) into ∂L/∂x in place, given the outputs `y`.
    public func backward(output y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity:
            break
        case .relu:
            VectorKernels.reluBackward(output: y, gradient: gradient, count: count)
        case .sigmoid:
            VectorKernels.sigmoidBackward(output: y, gradient: gradient, count: count)
        }
    }
}

/// The backward of a layer's bias and activation (`y = activation(z + bias)`):
/// turns `gradient` into the pre-activation gradient in place and adds its
/// column sums to `biasGradient`.
func activationAndBiasBackward(output y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>,
                               biasGradient: UnsafeMutablePointer<Float>,
                               rows: Int, channels: Int, activation: Activation) {
    activation.backward(output: y, gradient: gradient, count: rows * channels)
    VectorKernels.addColumnSums(of: gradient, rowCount: rows, channels: channels, into: biasGradient)
}
