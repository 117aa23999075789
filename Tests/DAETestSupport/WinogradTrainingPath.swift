import DAELayers

/// The Winograd paths a network can train on, as the tests run each one.
public enum WinogradTrainingPath: String, CaseIterable, Sendable, CustomStringConvertible {
    /// F(2×2, 3×3): forward pass, input gradient and weight gradient (``Sequential/withWinograd(_:)``).
    case f2
    /// F(4×4, 3×3) forward pass and input gradient, the weight gradient in F(2×2)'s domain.
    case f4
    /// F(4×4, 3×3) for all three passes, the weight gradient in its own domain.
    case f4WeightGradient

    /// `network` switched to this path.
    public func apply(to network: Sequential) -> Sequential {
        switch self {
        case .f2: network.withWinograd()
        case .f4: network.withWinogradF4(gradients: true)
        case .f4WeightGradient: network.withWinogradF4(gradients: true, f4WeightGradient: true)
        }
    }

    /// True for the F(4×4) paths.
    public var isF4: Bool { self != .f2 }

    public var description: String {
        switch self {
        case .f2: "F(2×2)"
        case .f4: "F(4×4) with F(2×2)'s weight gradient"
        case .f4WeightGradient: "F(4×4) with its own weight gradient"
        }
    }
}
