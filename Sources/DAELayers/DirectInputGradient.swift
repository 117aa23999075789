/// The input-gradient product of a convolution with very few input
/// channels, computed directly instead of as GEMM + col2im.
///
/// `dx = col2im(dy[M, Cout] × Wᵀ[Cout, P])` needs a patch matrix `M × P`
/// with `P = kh·kw·Cin`; with one input channel that is a GEMM only 9
/// columns wide, which OpenBLAS runs at a fifth of its peak, followed by a
/// pass over a matrix nine times the size of the result. This is the
/// transposed convolution's forward pass of a one-channel output layer, so
/// it is worth a kernel of its own: every input pixel of every channel is
/// the sum, over the patches that hold it, of one dot product of length
/// `Cout`,
///
///     dx[n, y, x, c] = Σ_(oh, ow) ⟨dy[n, oh, ow, :], W[(i·kw + j)·Cin + c, :]⟩,
///     i = y + padTop − oh·stride,  j = x + padLeft − ow·stride,
///
/// summed while it sits in registers and written once.
extension LoweredConvolution {
    /// Input channels up to which ``inputGradient(of:weights:into:batch:workspace:accumulate:bias:)``
    /// uses ``directInputGradient(of:weights:into:batch:accumulate:bias:)`` (measured: see Docs/Benchmarks.md).
    static let directInputChannelLimit = 2

    /// Whether this convolution's input gradient runs directly rather than as GEMM + col2im.
    var usesDirectInputGradient: Bool {
        geometry.inputChannels <= Self.directInputChannelLimit && !geometry.isPointwise
    }

    /// `inputGradient` as ``inputGradient(of:weights:into:batch:workspace:accumulate:bias:)``
    /// defines it, without a patch matrix.
    ///
    /// Pixels `x, x + stride, x + 2·stride, x + 3·stride` of a row are held
    /// by the same kernel taps of four *consecutive* patches, so where all
    /// four are inside the image they are computed together: each weight
    /// vector is loaded once for four dot products (four accumulators), which
    /// halves the loads of the inner loop.
    func directInputGradient(of outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                             into inputGradient: UnsafeMutablePointer<Float>, batch: Int,
                             accumulate: Bool, bias: UnsafePointer<Float>?) {
        let g = geometry
        let channels = g.inputChannels, length = outputChannels
        let rowLength = g.inputWidth * channels
        for n in 0..<batch {
            let gradientOfImage = outputGradient + n * g.outputPixels * length
            let image = inputGradient + n * g.inputCount
            for y in 0..<g.inputHeight {
                let rows = g.patchRange(holding: y + g.padTop, kernel: g.kernelHeight, outputs: g.outputHeight)
                let row = image + y * rowLength
                for phase in 0..<min(g.stride, g.inputWidth) {
                    var x = phase
                    while x < g.inputWidth {
                        let columns = g.patchRange(holding: x + g.padLeft, kernel: g.kernelWidth, outputs: g.outputWidth)
                        let last = x + 3 * g.stride
                        if last < g.inputWidth,
                           g.patchRange(holding: last + g.padLeft, kernel: g.kernelWidth, outputs: g.outputWidth)
                               == (columns.lowerBound + 3)..<(columns.upperBound + 3) {
                            for c in 0..<channels {
                                let sums = quadrupleSums(gradientOfImage, weights, y: y, x: x, channel: c,
                                                         rows: rows, columns: columns)
                                for p in 0..<4 {
                                    let value = row + (x + p * g.stride) * channels + c
                                    value.pointee = (accumulate ? value.pointee : (bias?[c] ?? 0)) + sums[p]
                                }
                            }
                            x += 4 * g.stride
                        } else {
                            for c in 0..<channels {
                                let value = row + x * channels + c
                                value.pointee = (accumulate ? value.pointee : (bias?[c] ?? 0))
                                    + singleSum(gradientOfImage, weights, y: y, x: x, channel: c, rows: rows, columns: columns)
                            }
                            x += g.stride
                        }
                    }
                }
            }
        }
    }

    /// Σ over the patches (rows × columns) holding pixel (y, x) of ⟨dy[patch], W[tap, channel]⟩.
    @inline(__always)
    private func singleSum(_ gradientOfImage: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                           y: Int, x: Int, channel: Int, rows: Range<Int>, columns: Range<Int>) -> Float {
        let g = geometry, length = outputChannels
        var lanes = VectorKernels.Vector()
        var tail: Float = 0
        for oh in rows {
            let i = y + g.padTop - oh * g.stride
            for ow in columns {
                let j = x + g.padLeft - ow * g.stride
                let a = gradientOfImage + (oh * g.outputWidth + ow) * length
                let b = weights + ((i * g.kernelWidth + j) * g.inputChannels + channel) * length
                var k = 0
                while k + VectorKernels.width <= length {
                    lanes += VectorKernels.load(a + k) * VectorKernels.load(b + k)
                    k += VectorKernels.width
                }
                while k < length { tail += a[k] * b[k]; k += 1 }
            }
        }
        return lanes.sum() + tail
    }

    /// ``singleSum(_:_:y:x:channel:rows:columns:)`` for pixels x + p·stride, p = 0…3,
    /// whose patches are those of pixel x shifted by p columns.
    @inline(__always)
    private func quadrupleSums(_ gradientOfImage: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                               y: Int, x: Int, channel: Int, rows: Range<Int>, columns: Range<Int>) -> SIMD4<Float> {
        let g = geometry, length = outputChannels
        var s0 = VectorKernels.Vector(), s1 = s0, s2 = s0, s3 = s0
        var tail = SIMD4<Float>()
        for oh in rows {
            let i = y + g.padTop - oh * g.stride
            for ow in columns {
                let j = x + g.padLeft - ow * g.stride
                // Four consecutive patches: one weight vector, four gradient rows `length` apart.
                let a = gradientOfImage + (oh * g.outputWidth + ow) * length
                let b = weights + ((i * g.kernelWidth + j) * g.inputChannels + channel) * length
                var k = 0
                while k + VectorKernels.width <= length {
                    let w = VectorKernels.load(b + k)
                    s0 += VectorKernels.load(a + k) * w
                    s1 += VectorKernels.load(a + length + k) * w
                    s2 += VectorKernels.load(a + 2 * length + k) * w
                    s3 += VectorKernels.load(a + 3 * length + k) * w
                    k += VectorKernels.width
                }
                while k < length {
                    tail += SIMD4(a[k], a[length + k], a[2 * length + k], a[3 * length + k]) * b[k]
                    k += 1
                }
            }
        }
        return SIMD4(s0.sum(), s1.sum(), s2.sum(), s3.sum()) + tail
    }
}

extension ConvolutionGeometry {
    /// The output positions `o` whose kernel window covers padded input
    /// position `p`: `0 ≤ p − o·stride < kernel` and `0 ≤ o < outputs`.
    @inline(__always)
    func patchRange(holding p: Int, kernel: Int, outputs: Int) -> Range<Int> {
        let lowest = p - kernel + 1   // o·stride ≥ p − kernel + 1
        let first = lowest <= 0 ? 0 : (lowest + stride - 1) / stride
        let last = min(p / stride, outputs - 1)
        return first..<max(first, last + 1)
    }
}
