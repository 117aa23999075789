/// Lowering a convolution to a matrix product.
///
/// For NHWC input `x[N, H, W, C]` and a geometry with output `outH × outW`,
/// the patch matrix has one row per output pixel of the whole batch and one
/// column per kernel tap and input channel:
///
///     col[(n·outH + oh)·outW + ow, (i·kw + j)·C + c]
///         = x[n, oh·stride + i − padTop, ow·stride + j − padLeft, c]   (0 outside the image)
///
/// Its column order `(i, j, c)` is the row order of a Keras kernel
/// `[kh, kw, C, out]`, so `col[N·outH·outW, kh·kw·C] × K[kh·kw·C, out]` is the
/// convolution. `col2im` is the exact adjoint: it adds every patch entry
/// back to the pixel it came from.
extension ConvolutionGeometry {
    /// Fills `col` (`batch·outputPixels × patchSize` floats) with the patches of `input`.
    public func im2col(_ input: UnsafePointer<Float>, batch: Int, into col: UnsafeMutablePointer<Float>) {
        im2col(input, rows: 0..<(batch * outputPixels), into: col)
    }

    /// Fills `col` (`rows.count × patchSize` floats) with rows `rows` of the
    /// patch matrix of `input` (row `(n·outH + oh)·outW + ow` is output pixel
    /// `(oh, ow)` of image `n`): a slice of the whole matrix, for lowering a
    /// large convolution in cache-sized pieces.
    public func im2col(_ input: UnsafePointer<Float>, rows: Range<Int>, into col: UnsafeMutablePointer<Float>) {
        let channels = inputChannels
        let rowLength = patchSize
        let tapLength = kernelWidth * channels
        let imageSize = inputCount
        var row = col
        for index in rows {
            let n = index / outputPixels, pixel = index % outputPixels
            let (oh, ow) = (pixel / outputWidth, pixel % outputWidth)
            let image = input + n * imageSize
            let top = oh * stride - padTop
            let left = ow * stride - padLeft
            for i in 0..<kernelHeight {
                let ih = top + i
                let destination = row + i * tapLength
                guard ih >= 0 && ih < inputHeight else {
                    destination.update(repeating: 0, count: tapLength)
                    continue
                }
                let sourceRow = image + ih * inputWidth * channels
                if left >= 0 && left + kernelWidth <= inputWidth {
                    // The whole kernel row lies inside the image: one contiguous run.
                    VectorKernels.copy(sourceRow + left * channels, to: destination, count: tapLength)
                } else {
                    for j in 0..<kernelWidth {
                        let iw = left + j
                        let tap = destination + j * channels
                        if iw >= 0 && iw < inputWidth {
                            VectorKernels.copy(sourceRow + iw * channels, to: tap, count: channels)
                        } else {
                            tap.update(repeating: 0, count: channels)
                        }
                    }
                }
            }
            row += rowLength
        }
    }

    /// Adds every entry of `col` (`batch·outputPixels × patchSize`) to the
    /// input pixel it was taken from; `output` (`batch·inputCount`) is
    /// accumulated into, not overwritten. The adjoint of ``im2col(_:batch:into:)``.
    public func col2im(_ col: UnsafePointer<Float>, batch: Int, addingInto output: UnsafeMutablePointer<Float>) {
        col2im(col, batch: batch, into: output, accumulate: true)
    }

    /// The adjoint of ``im2col(_:batch:into:)``: every input pixel of
    /// `output` (`batch·inputCount` floats) receives the sum of the `col`
    /// entries taken from it, on top of its current value when `accumulate`,
    /// else on top of `bias` (one value per input channel) or zero.
    ///
    /// It scatters: `col` is read once, in order, and each patch row is
    /// added to the pixels it came from (one contiguous run per kernel row).
    /// Measured on this model's shapes, this beats gathering each pixel's
    /// entries (a scattered read of `col`) by 1.3–2×.
    public func col2im(_ col: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>,
                       accumulate: Bool, bias: UnsafePointer<Float>? = nil) {
        if !accumulate {
            if let bias {
                VectorKernels.broadcastRows(bias, into: output, rowCount: batch * inputHeight * inputWidth,
                                            channels: inputChannels)
            } else {
                output.update(repeating: 0, count: batch * inputCount)
            }
        }
        let channels = inputChannels
        let tapLength = kernelWidth * channels
        var row = col
        for n in 0..<batch {
            let image = output + n * inputCount
            for oh in 0..<outputHeight {
                let top = oh * stride - padTop
                for ow in 0..<outputWidth {
                    let left = ow * stride - padLeft
                    // Taps firstTap..<lastTap of each kernel row land inside the image, contiguously.
                    let firstTap = max(0, -left)
                    let lastTap = min(kernelWidth, inputWidth - left)
                    // Kernel rows firstRow..<lastRow land inside the image.
                    let firstRow = max(0, -top)
                    let lastRow = min(kernelHeight, inputHeight - top)
                    if firstTap < lastTap && firstRow < lastRow {
                        for i in firstRow..<lastRow {
                            let destination = image + ((top + i) * inputWidth + left + firstTap) * channels
                            VectorKernels.add(row + i * tapLength + firstTap * channels, into: destination,
                                              count: (lastTap - firstTap) * channels)
                        }
                    }
                    row += patchSize
                }
            }
        }
    }
}
