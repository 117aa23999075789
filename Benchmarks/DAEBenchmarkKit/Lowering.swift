import DAEKit

/// The im2col / col2im work of a layer's passes, as ``Conv2D`` and
/// ``Conv2DTranspose`` use the public ``ConvolutionGeometry`` functions: a
/// Conv2D runs im2col forward and col2im for its input gradient; a
/// Conv2DTranspose runs col2im forward and im2col of ∂L/∂y backward.
final class Lowering {
    private let geometry: ConvolutionGeometry
    private let batch: Int
    private let transposed: Bool
    private let needsInputGradient: Bool
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
        guard !geometry.isPointwise else { return nil }
        self.batch = batch
        self.needsInputGradient = needsInputGradient
        image = FloatBuffer(SyntheticData.floats(batch * geometry.inputCount, using: &rng))
        columns = FloatBuffer(SyntheticData.floats(batch * geometry.outputPixels * geometry.patchSize, using: &rng))
    }

    private func im2col() {
        geometry.im2col(image.readOnly, batch: batch, into: columns.pointer)
    }

    private func col2im() {
        geometry.col2im(columns.readOnly, batch: batch, into: image.pointer, accumulate: false)
    }

    /// Runs the forward pass's lowering once and returns its seconds.
    func timeForward() -> Double {
        Stopwatch.time { transposed ? col2im() : im2col() }
    }

    /// Runs the backward pass's lowering once and returns its seconds (0 when it has none).
    func timeBackward() -> Double {
        if transposed { return Stopwatch.time(im2col) }
        return needsInputGradient ? Stopwatch.time(col2im) : 0
    }
}
