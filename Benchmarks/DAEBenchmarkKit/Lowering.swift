import DAEKit

/// The im2col / col2im work of a layer's passes, as ``Conv2D`` and
/// ``Conv2DTranspose`` use the public ``ConvolutionGeometry`` functions: a
/// Conv2D runs im2col forward and col2im for its input gradient; a
/// Conv2DTranspose runs col2im forward and im2col of ∂L/∂y backward. A
/// convolution with few input channels (``ConvolutionGeometry/usesDirectLoops``)
/// runs neither, except the col2im of a strided convolution's input gradient.
final class Lowering {
    private let geometry: ConvolutionGeometry
    private let batch: Int
    private let transposed: Bool
    private let forwardIsLowered: Bool, backwardIsLowered: Bool
    private let image: FloatBuffer, columns: FloatBuffer

    /// The lowering of `layer` at `batch` on its own buffers, or nil for a layer without one.
    init?(of layer: any Layer, batch: Int, needsInputGradient: Bool, using rng: inout SplitMix64) {
        if let conv = layer as? Conv2D {
            (geometry, transposed) = (conv.geometry, false)
        } else if let deconv = layer as? Conv2DTranspose {
            (geometry, transposed) = (deconv.adjointGeometry, true)
        } else {
            return nil
        }
        // The col2im of the convolution's input gradient: a Conv2D's backward, a Conv2DTranspose's forward.
        let col2imRuns = !geometry.usesDirectInputGradient
        let im2colRuns = !geometry.usesDirectLoops
        forwardIsLowered = transposed ? col2imRuns : im2colRuns
        backwardIsLowered = transposed ? im2colRuns : (needsInputGradient && col2imRuns)
        guard !geometry.isPointwise, forwardIsLowered || backwardIsLowered else { return nil }
        self.batch = batch
        image = FloatBuffer(SyntheticData.floats(batch * geometry.inputCount, using: &rng))
        columns = FloatBuffer(SyntheticData.floats(batch * geometry.outputPixels * geometry.patchSize, using: &rng))
    }

    private func im2col() {
        geometry.im2col(image.readOnly, batch: batch, into: columns.pointer)
    }

    private func col2im() {
        geometry.col2im(columns.readOnly, batch: batch, into: image.pointer, accumulate: false)
    }

    /// Runs the forward pass's lowering once and returns its seconds (0 when it has none).
    func timeForward() -> Double {
        guard forwardIsLowered else { return 0 }
        return Stopwatch.time { transposed ? col2im() : im2col() }
    }

    /// Runs the backward pass's lowering once and returns its seconds (0 when it has none).
    func timeBackward() -> Double {
        guard backwardIsLowered else { return 0 }
        return Stopwatch.time { transposed ? im2col() : col2im() }
    }
}
