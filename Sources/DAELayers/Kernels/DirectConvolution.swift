#if arch(x86_64)
import CDirectKernels
#endif

/// Direct loops for a convolution with one input channel (up to four with
/// AVX2, below): a grey image going into the first layer, or — seen from
/// the other side — a transposed convolution with one filter producing the
/// image.
///
/// Lowered to a GEMM, such a convolution multiplies by a matrix with only
/// `P = kh·kw·C` rows or columns (9 for a 3×3 kernel on one channel): on
/// such thin shapes OpenBLAS runs far below its peak, and the patch matrix
/// that im2col writes and col2im reads back is `P / C` times the size of the
/// image. These loops instead read the image (zero-padded, one image at a
/// time) from the cache and keep 4 output pixels × 8 channels in registers,
/// so each weight vector loaded serves four pixels (the weight gradient:
/// one tap × 32 channels, so each pixel value loaded serves 32 products).
///
/// With `C = inputChannels`, `F` output channels and the Keras kernel
/// `W[kh, kw, C, F]`, the three passes are
///
///     forward:          y[o, f]       = Σ_{i,j,c} x[o·s + (i, j) − pad, c] · W[i, j, c, f]
///     weight gradient:  W̄[i, j, c, f] += Σ_o  x[o·s + (i, j) − pad, c] · ȳ[o, f]
///     input gradient:   x̄[p, c]       = Σ_{i,j} Σ_f ȳ[p + pad − (i, j), f] · W[i, j, c, f]   (stride 1)
///
/// The input gradient of a strided convolution gathers from a different
/// set of taps at every pixel parity; it keeps the lowered GEMM + col2im
/// (in this model that pass only exists for the first layer, whose input
/// gradient training never needs).
///
/// With the portable loops (4-wide SIMD) the lowered GEMM was as fast at
/// 2–4 input channels, so they stop at one channel (they are written for
/// any count).
///
/// On x86-64 CPUs with AVX2 and FMA the same loops run as C functions
/// compiled for those extensions (`Sources/CDirectKernels`; see
/// ``DirectLoopKernels``); the Swift loops here serve every other CPU. With
/// AVX2 the loops beat im2col + GEMM up to 4 input channels in every pass;
/// the limit is 4: the image channel counts in use (grey, grey + alpha, RGB,
/// RGBA). The measurements behind both limits are in Docs/Benchmarks.md
/// ("Direct loops: the measurements behind the channel limits"), where they
/// can be rerun and kept current.
extension ConvolutionGeometry {
    /// Convolutions with at most this many input channels run as direct
    /// loops: 4 where they run as AVX2 + FMA code (RGB and RGBA images
    /// included), 1 with the portable loops.
    public static var directLoopChannelLimit: Int { DirectLoopKernels.best == .avx2 ? 4 : 1 }

    /// True when ``Conv2D`` (and ``Conv2DTranspose``, through its adjoint
    /// geometry) runs this convolution's passes as direct loops rather than
    /// im2col + GEMM: at most ``directLoopChannelLimit`` input channels, and
    /// not a 1×1 stride-1 convolution (whose GEMM needs no im2col).
    public var usesDirectLoops: Bool { inputChannels <= Self.directLoopChannelLimit && !isPointwise }

    /// True when the input-gradient pass (a ``Conv2D``'s backward, a
    /// ``Conv2DTranspose``'s forward) also runs as direct loops: only at
    /// stride 1; a strided one keeps GEMM + col2im.
    public var usesDirectInputGradient: Bool { usesDirectLoops && stride == 1 }

    /// True when the direct loops run as AVX2 + FMA code on this CPU (x86-64
    /// with both extensions), false when they run as the portable Swift loops.
    public static var directLoopsUseAVX2: Bool { DirectLoopKernels.best == .avx2 }

    /// Rows of the zero-padded input: every row some kernel window reads.
    var paddedHeight: Int { (outputHeight - 1) * stride + kernelHeight }
    /// Columns of the zero-padded input.
    var paddedWidth: Int { (outputWidth - 1) * stride + kernelWidth }
    /// Floats of one zero-padded input image.
    var paddedInputCount: Int { paddedHeight * paddedWidth * inputChannels }

    /// Writes `image` into `padded` (``paddedInputCount`` floats) with the
    /// convolution's zero padding around it (and without the rows or columns
    /// no window reads).
    func pad(_ image: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        padded.update(repeating: 0, count: paddedInputCount)
        let rows = min(inputHeight, paddedHeight - padTop)
        let rowLength = min(inputWidth, paddedWidth - padLeft) * inputChannels
        for r in 0..<rows {
            VectorKernels.copy(image + r * inputWidth * inputChannels,
                               to: padded + ((r + padTop) * paddedWidth + padLeft) * inputChannels, count: rowLength)
        }
    }

    /// The forward pass as direct loops: `output[batch·outputPixels, F]` is
    /// overwritten with `bias` (or zero) plus the convolution of `input`.
    ///
    /// - Parameters:
    ///   - padded: ``paddedInputCount`` floats of scratch.
    ///   - kernels: which implementation runs (tests run both).
    func directForward(_ input: UnsafePointer<Float>, weights: UnsafePointer<Float>, outputChannels: Int,
                       into output: UnsafeMutablePointer<Float>, batch: Int, padded: UnsafeMutablePointer<Float>,
                       bias: UnsafePointer<Float>?, kernels: DirectLoopKernels = .best) {
        typealias V = VectorKernels.Vector
        let f = outputChannels, lanes = VectorKernels.width
        let tapsPerRow = kernelWidth * inputChannels      // weight rows, and padded floats, per kernel row
        let windowStep = stride * inputChannels           // padded floats between neighbouring windows
        let paddedRow = paddedWidth * inputChannels
        let (window1, window2, window3) = (windowStep, 2 * windowStep, 3 * windowStep)
        for n in 0..<batch {
            pad(input + n * inputCount, into: padded)
            let image = output + n * outputPixels * f
            #if arch(x86_64)
            if kernels == .avx2 {
                dae_direct_forward_avx2(padded, weights, bias, image, outputHeight, outputWidth, f,
                                        kernelHeight, tapsPerRow, windowStep, stride * paddedRow, paddedRow)
                continue
            }
            #endif
            for oh in 0..<outputHeight {
                let windows = UnsafePointer(padded) + oh * stride * paddedRow
                let row = image + oh * outputWidth * f
                var f0 = 0
                // 8 channels at a time; four pixels share every weight vector loaded.
                while f0 + lanes <= f {
                    let start: V = bias.map { VectorKernels.load($0 + f0) } ?? .zero
                    var ow = 0
                    while ow < outputWidth {
                        // Groups of 4; the row's last one overlaps the one before (its pixels are
                        // overwritten with the same values) rather than leaving 1–3 pixels to the one-pixel loop.
                        let group = outputWidth >= 4 ? 4 : 1
                        if group == 4 { ow = min(ow, outputWidth - 4) }
                        let y = row + ow * f + f0
                        var a0 = start, a1 = start, a2 = start, a3 = start
                        var w = weights + f0
                        var x = windows + ow * windowStep
                        if group == 4 {
                            for _ in 0..<kernelHeight {
                                var tap = x
                                for _ in 0..<tapsPerRow {
                                    let wv = VectorKernels.load(w)
                                    a0 += tap[0] * wv
                                    a1 += tap[window1] * wv
                                    a2 += tap[window2] * wv
                                    a3 += tap[window3] * wv
                                    w += f
                                    tap += 1
                                }
                                x += paddedRow
                            }
                            VectorKernels.store(a0, y)
                            VectorKernels.store(a1, y + f)
                            VectorKernels.store(a2, y + 2 * f)
                            VectorKernels.store(a3, y + 3 * f)
                            ow += 4
                        } else {
                            for _ in 0..<kernelHeight {
                                for t in 0..<tapsPerRow {
                                    a0 += x[t] * VectorKernels.load(w)
                                    w += f
                                }
                                x += paddedRow
                            }
                            VectorKernels.store(a0, y)
                            ow += 1
                        }
                    }
                    f0 += lanes
                }
                // The last F mod 8 channels, one at a time.
                for channel in f0..<f {
                    for ow in 0..<outputWidth {
                        var sum = bias?[channel] ?? 0
                        var w = weights + channel
                        var x = windows + ow * windowStep
                        for _ in 0..<kernelHeight {
                            for t in 0..<tapsPerRow {
                                sum += x[t] * w.pointee
                                w += f
                            }
                            x += paddedRow
                        }
                        row[ow * f + channel] = sum
                    }
                }
            }
        }
    }

    /// The weight gradient as direct loops: `weightGradient[kh·kw·C, F] +=`
    /// the correlation of `input` with `outputGradient[batch·outputPixels, F]`.
    ///
    /// - Parameters:
    ///   - padded: ``paddedInputCount`` floats of scratch.
    ///   - kernels: which implementation runs (tests run both).
    func directWeightGradient(input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, outputChannels: Int,
                              into weightGradient: UnsafeMutablePointer<Float>, batch: Int,
                              padded: UnsafeMutablePointer<Float>, kernels: DirectLoopKernels = .best) {
        typealias V = VectorKernels.Vector
        let f = outputChannels, lanes = VectorKernels.width
        let tapsPerRow = kernelWidth * inputChannels
        let windowStep = stride * inputChannels
        let paddedRow = paddedWidth * inputChannels
        let (window1, window2, window3, window4) = (windowStep, 2 * windowStep, 3 * windowStep, 4 * windowStep)
        let (f2, f3, f4) = (2 * f, 3 * f, 4 * f)
        for n in 0..<batch {
            pad(input + n * inputCount, into: padded)
            let gradient = outputGradient + n * outputPixels * f
            #if arch(x86_64)
            if kernels == .avx2 {
                dae_direct_weight_gradient_avx2(padded, gradient, weightGradient, outputHeight, outputWidth, f,
                                                kernelHeight, tapsPerRow, windowStep, stride * paddedRow, paddedRow)
                continue
            }
            #endif
            for i in 0..<kernelHeight {
                for t in 0..<tapsPerRow {
                    // Weight row (i, t): the same tap of every window, against every output pixel's gradient.
                    let tap = UnsafePointer(padded) + i * paddedRow + t
                    let destination = weightGradient + (i * tapsPerRow + t) * f
                    var f0 = 0
                    // 32 channels at a time: one tap value broadcast serves four vectors of ∂L/∂y.
                    while f0 + 4 * lanes <= f {
                        var s0 = V.zero, s1 = V.zero, s2 = V.zero, s3 = V.zero
                        for oh in 0..<outputHeight {
                            var x = tap + oh * stride * paddedRow
                            var dy = gradient + oh * outputWidth * f + f0
                            for _ in 0..<outputWidth {
                                let v = x[0]
                                s0 += v * VectorKernels.load(dy)
                                s1 += v * VectorKernels.load(dy + lanes)
                                s2 += v * VectorKernels.load(dy + 2 * lanes)
                                s3 += v * VectorKernels.load(dy + 3 * lanes)
                                x += windowStep
                                dy += f
                            }
                        }
                        let d = destination + f0
                        VectorKernels.store(VectorKernels.load(d) + s0, d)
                        VectorKernels.store(VectorKernels.load(d + lanes) + s1, d + lanes)
                        VectorKernels.store(VectorKernels.load(d + 2 * lanes) + s2, d + 2 * lanes)
                        VectorKernels.store(VectorKernels.load(d + 3 * lanes) + s3, d + 3 * lanes)
                        f0 += 4 * lanes
                    }
                    while f0 + lanes <= f {
                        // Four partial sums break the chain of dependent additions.
                        var s0 = V.zero, s1 = V.zero, s2 = V.zero, s3 = V.zero
                        for oh in 0..<outputHeight {
                            var x = tap + oh * stride * paddedRow
                            var dy = gradient + oh * outputWidth * f + f0
                            var ow = 0
                            while ow + 4 <= outputWidth {
                                s0 += x[0] * VectorKernels.load(dy)
                                s1 += x[window1] * VectorKernels.load(dy + f)
                                s2 += x[window2] * VectorKernels.load(dy + f2)
                                s3 += x[window3] * VectorKernels.load(dy + f3)
                                x += window4
                                dy += f4
                                ow += 4
                            }
                            while ow < outputWidth {
                                s0 += x[0] * VectorKernels.load(dy)
                                x += windowStep
                                dy += f
                                ow += 1
                            }
                        }
                        VectorKernels.store(VectorKernels.load(destination + f0) + ((s0 + s1) + (s2 + s3)), destination + f0)
                        f0 += lanes
                    }
                    for channel in f0..<f {
                        var sum: Float = 0
                        for oh in 0..<outputHeight {
                            let x = tap + oh * stride * paddedRow
                            let dy = gradient + oh * outputWidth * f + channel
                            for ow in 0..<outputWidth { sum += x[ow * windowStep] * dy[ow * f] }
                        }
                        destination[channel] += sum
                    }
                }
            }
        }
    }

    /// The input gradient of a stride-1 convolution as direct loops:
    /// `inputGradient[batch·inputPixels, C]` is overwritten with `bias` (one
    /// value per input channel, or zero) plus the gathered products. Each input pixel sums
    /// `ȳ[p + pad − (i, j)] · W[i, j, c]` over the taps that land inside the
    /// output: 8 output channels at a time, four pixels per weight vector.
    ///
    /// - Parameter kernels: which implementation runs (tests run both).
    func directInputGradient(of outputGradient: UnsafePointer<Float>, weights: UnsafePointer<Float>, outputChannels: Int,
                             into inputGradient: UnsafeMutablePointer<Float>, batch: Int,
                             bias: UnsafePointer<Float>?, kernels: DirectLoopKernels = .best) {
        precondition(stride == 1, "direct input gradient needs stride 1")
        let f = outputChannels, c = inputChannels
        // Pixels iw in interior have every kernel column inside the output row.
        let firstInterior = max(0, kernelWidth - 1 - padLeft)
        let interior = firstInterior..<max(firstInterior, min(inputWidth, outputWidth - padLeft))
        for n in 0..<batch {
            let gradient = outputGradient + n * outputPixels * f
            let image = inputGradient + n * inputCount
            #if arch(x86_64)
            if kernels == .avx2 {
                for channel in 0..<c {
                    dae_direct_input_gradient_avx2(gradient, weights, bias?[channel] ?? 0, image,
                                                   inputHeight, inputWidth, c, channel, outputHeight, outputWidth, f,
                                                   kernelHeight, kernelWidth, padTop, padLeft)
                }
                continue
            }
            #endif
            for ih in 0..<inputHeight {
                // Kernel rows i whose output row ih + padTop − i exists.
                let firstRow = max(0, ih + padTop - outputHeight + 1)
                let rows = firstRow..<max(firstRow, min(kernelHeight, ih + padTop + 1))
                for channel in 0..<c {
                    var iw = 0
                    while iw < inputWidth {
                        var group = 1
                        if interior.count >= 4 && interior.contains(iw) {
                            // The row's last group of 4 overlaps the one before (its pixels are
                            // overwritten with the same values) instead of leaving 1–3 pixels
                            // to the slower one-pixel loop.
                            iw = min(iw, interior.upperBound - 4)
                            group = 4
                        }
                        let sums = group == 4 && kernelWidth == 3
                            ? threeTapGroupSums(gradient, ih: ih, iw: iw, rows: rows, channel: channel,
                                                weights: weights, outputChannels: f)
                            : groupSums(gradient, ih: ih, iw: iw, group: group, rows: rows, channel: channel,
                                        weights: weights, outputChannels: f)
                        let x = image + (ih * inputWidth + iw) * c + channel
                        let initial = bias?[channel] ?? 0
                        x[0] = initial + sums.0
                        if group == 4 {
                            x[c] = initial + sums.1
                            x[2 * c] = initial + sums.2
                            x[3 * c] = initial + sums.3
                        }
                        iw += group
                    }
                }
            }
        }
    }

    /// The input-gradient sums (before bias) of `group` (4 or 1) neighbouring
    /// pixels from `iw` of row `ih`, channel `channel`, over kernel rows `rows`:
    /// 8 output channels at a time, each weight vector serving four pixels.
    /// A pixel of a group of 4 has every kernel column inside the output.
    private func groupSums(_ gradient: UnsafePointer<Float>, ih: Int, iw: Int, group: Int, rows: Range<Int>, channel: Int,
                           weights: UnsafePointer<Float>, outputChannels f: Int) -> (Float, Float, Float, Float) {
        typealias V = VectorKernels.Vector
        let lanes = VectorKernels.width, vectorChannels = f - f % lanes
        let (f2, f3) = (2 * f, 3 * f)
        var s0 = V.zero, s1 = V.zero, s2 = V.zero, s3 = V.zero
        var tails: (Float, Float, Float, Float) = (0, 0, 0, 0)
        for i in rows {
            let gradientRow = gradient + (ih + padTop - i) * outputWidth * f
            for j in 0..<kernelWidth {
                let ow = iw + padLeft - j
                guard group == 4 || (ow >= 0 && ow < outputWidth) else { continue }
                let w = weights + ((i * kernelWidth + j) * inputChannels + channel) * f
                let dy = gradientRow + ow * f
                var f0 = 0
                if group == 4 {
                    var (wp, dp) = (w, dy)
                    while f0 < vectorChannels {
                        let wv = VectorKernels.load(wp)
                        s0 += VectorKernels.load(dp) * wv
                        s1 += VectorKernels.load(dp + f) * wv
                        s2 += VectorKernels.load(dp + f2) * wv
                        s3 += VectorKernels.load(dp + f3) * wv
                        wp += lanes
                        dp += lanes
                        f0 += lanes
                    }
                    for k in f0..<f {
                        tails.0 += dy[k] * w[k]
                        tails.1 += dy[f + k] * w[k]
                        tails.2 += dy[2 * f + k] * w[k]
                        tails.3 += dy[3 * f + k] * w[k]
                    }
                } else {
                    while f0 < vectorChannels {
                        s0 += VectorKernels.load(dy + f0) * VectorKernels.load(w + f0)
                        f0 += lanes
                    }
                    for k in f0..<f { tails.0 += dy[k] * w[k] }
                }
            }
        }
        return (s0.sum() + tails.0, s1.sum() + tails.1, s2.sum() + tails.2, s3.sum() + tails.3)
    }

    /// ``groupSums(_:ih:iw:group:rows:channel:weights:outputChannels:)`` for a
    /// group of 4 pixels and a kernel 3 wide: pixel `p` takes
    /// `Σ_j ȳ[p + 2 − j] · W[j]` over a kernel row's three taps, so the row's
    /// six ∂L/∂y pixels are loaded once per 4 channels and serve twelve
    /// products (4-wide vectors: the 4 accumulators, 3 weights and 6 pixels
    /// fit in the 16 SSE registers).
    private func threeTapGroupSums(_ gradient: UnsafePointer<Float>, ih: Int, iw: Int, rows: Range<Int>, channel: Int,
                                   weights: UnsafePointer<Float>, outputChannels f: Int) -> (Float, Float, Float, Float) {
        var q0 = SIMD4<Float>.zero, q1 = q0, q2 = q0, q3 = q0
        var tails: (Float, Float, Float, Float) = (0, 0, 0, 0)
        let tapStride = inputChannels * f
        for i in rows {
            // The leftmost of the six ∂L/∂y pixels, and the row's first tap.
            let dy = gradient + ((ih + padTop - i) * outputWidth + iw + padLeft - 2) * f
            let w0 = weights + (i * 3 * inputChannels + channel) * f
            let (w1, w2) = (w0 + tapStride, w0 + 2 * tapStride)
            var k = 0
            while k + 4 <= f {
                let (a, b, c) = (VectorKernels.load4(w0 + k), VectorKernels.load4(w1 + k), VectorKernels.load4(w2 + k))
                let d = dy + k
                let d0 = VectorKernels.load4(d), d1 = VectorKernels.load4(d + f), d2 = VectorKernels.load4(d + 2 * f)
                let d3 = VectorKernels.load4(d + 3 * f), d4 = VectorKernels.load4(d + 4 * f), d5 = VectorKernels.load4(d + 5 * f)
                q0 += d2 * a + d1 * b + d0 * c
                q1 += d3 * a + d2 * b + d1 * c
                q2 += d4 * a + d3 * b + d2 * c
                q3 += d5 * a + d4 * b + d3 * c
                k += 4
            }
            while k < f {
                let (a, b, c) = (w0[k], w1[k], w2[k])
                let d = (dy[k], dy[f + k], dy[2 * f + k], dy[3 * f + k], dy[4 * f + k], dy[5 * f + k])
                tails.0 += d.2 * a + d.1 * b + d.0 * c
                tails.1 += d.3 * a + d.2 * b + d.1 * c
                tails.2 += d.4 * a + d.3 * b + d.2 * c
                tails.3 += d.5 * a + d.4 * b + d.3 * c
                k += 1
            }
        }
        return (q0.sum() + tails.0, q1.sum() + tails.1, q2.sum() + tails.2, q3.sum() + tails.3)
    }
}

/// The two implementations of the direct loops.
enum DirectLoopKernels: Sendable, Equatable {
    /// The Swift loops of `DirectConvolution.swift`: 4- and 8-wide SIMD
    /// vectors at the x86-64 (SSE2) or arm64 baseline, any CPU.
    case portable
    /// The same loops in C (`Sources/CDirectKernels`), compiled for AVX2 and
    /// FMA: 8-wide vectors and fused multiply-adds. Only on an x86-64 CPU
    /// that has both (``isAVX2Available``).
    case avx2

    /// True on an x86-64 CPU with AVX2 and FMA.
    static let isAVX2Available: Bool = {
        #if arch(x86_64)
        return dae_direct_avx2_available() != 0
        #else
        return false
        #endif
    }()

    /// What this machine runs: AVX2 + FMA where the CPU has them.
    static let best: DirectLoopKernels = isAVX2Available ? .avx2 : .portable

    /// Every implementation this CPU can run.
    static var available: [DirectLoopKernels] { isAVX2Available ? [.portable, .avx2] : [.portable] }
}
