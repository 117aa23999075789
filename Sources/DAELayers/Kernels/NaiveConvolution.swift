/// Direct convolution loops, written from the definitions with no lowering
/// and no BLAS: the reference that tests and the benchmark compare the
/// im2col + GEMM layers with. Slow on purpose, obviously right.
///
/// All tensors are NHWC; kernels are in Keras's layouts; padding is
/// TensorFlow's (see ``Padding``). No activation is applied.
package enum NaiveConvolution {
    /// `y[n, o, p, f] = b[f] + Σ_{i,j,c} x[n, o·s + i − padTop, p·s + j − padLeft, c] · K[i, j, c, f]`
    /// with `kernel` `[kh, kw, C, F]`.
    package static func conv2D(_ x: Tensor, kernel: Tensor, bias: Tensor? = nil,
                              stride: Int, padding: Padding) throws -> Tensor {
        let g = try geometry(input: x, kh: kernel.shape[0], kw: kernel.shape[1], stride: stride, padding: padding)
        let (n, filters) = (x.shape[0], kernel.shape[3])
        try kernel.checkShape([g.kernelHeight, g.kernelWidth, g.inputChannels, filters], "naive conv2D kernel")
        let xs = x.scalars, ks = kernel.scalars
        var y = [Float](repeating: 0, count: n * g.outputPixels * filters)
        for b in 0..<n {
            for o in 0..<g.outputHeight {
                for p in 0..<g.outputWidth {
                    for f in 0..<filters {
                        var sum: Float = bias?.scalars[f] ?? 0
                        for i in 0..<g.kernelHeight {
                            let h = o * stride + i - g.padTop
                            if h < 0 || h >= g.inputHeight { continue }
                            for j in 0..<g.kernelWidth {
                                let w = p * stride + j - g.padLeft
                                if w < 0 || w >= g.inputWidth { continue }
                                for c in 0..<g.inputChannels {
                                    sum += xs[((b * g.inputHeight + h) * g.inputWidth + w) * g.inputChannels + c]
                                        * ks[((i * g.kernelWidth + j) * g.inputChannels + c) * filters + f]
                                }
                            }
                        }
                        y[((b * g.outputHeight + o) * g.outputWidth + p) * filters + f] = sum
                    }
                }
            }
        }
        return Tensor(shape: [n, g.outputHeight, g.outputWidth, filters], scalars: y)
    }

    /// ∂L/∂x of ``conv2D(_:kernel:bias:stride:padding:)`` given ∂L/∂y, for an input of `inputShape` `[n, H, W, C]`.
    package static func conv2DInputGradient(_ dy: Tensor, kernel: Tensor, inputShape: [Int],
                                           stride: Int, padding: Padding) throws -> Tensor {
        let g = try geometry(input: Tensor(zeros: [1] + inputShape.dropFirst()), kh: kernel.shape[0],
                             kw: kernel.shape[1], stride: stride, padding: padding)
        let filters = kernel.shape[3]
        try dy.checkShape([inputShape[0], g.outputHeight, g.outputWidth, filters], "naive conv2D output gradient")
        var dx = [Float](repeating: 0, count: Tensor.elementCount(of: inputShape))
        let ds = dy.scalars, ks = kernel.scalars
        for b in 0..<inputShape[0] {
            for o in 0..<g.outputHeight {
                for p in 0..<g.outputWidth {
                    for i in 0..<g.kernelHeight {
                        let h = o * stride + i - g.padTop
                        if h < 0 || h >= g.inputHeight { continue }
                        for j in 0..<g.kernelWidth {
                            let w = p * stride + j - g.padLeft
                            if w < 0 || w >= g.inputWidth { continue }
                            for c in 0..<g.inputChannels {
                                var sum: Float = 0
                                for f in 0..<filters {
                                    sum += ds[((b * g.outputHeight + o) * g.outputWidth + p) * filters + f]
                                        * ks[((i * g.kernelWidth + j) * g.inputChannels + c) * filters + f]
                                }
                                dx[((b * g.inputHeight + h) * g.inputWidth + w) * g.inputChannels + c] += sum
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: inputShape, scalars: dx)
    }

    /// ∂L/∂K of ``conv2D(_:kernel:bias:stride:padding:)`` given the input and ∂L/∂y, as `[kh, kw, C, F]`.
    package static func conv2DKernelGradient(_ x: Tensor, outputGradient dy: Tensor, kernelSize: (Int, Int),
                                            stride: Int, padding: Padding) throws -> Tensor {
        let g = try geometry(input: x, kh: kernelSize.0, kw: kernelSize.1, stride: stride, padding: padding)
        let filters = dy.shape.last ?? 0
        try dy.checkShape([x.shape[0], g.outputHeight, g.outputWidth, filters], "naive conv2D output gradient")
        let xs = x.scalars, ds = dy.scalars
        var dk = [Float](repeating: 0, count: g.patchSize * filters)
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                for c in 0..<g.inputChannels {
                    for f in 0..<filters {
                        var sum: Float = 0
                        for b in 0..<x.shape[0] {
                            for o in 0..<g.outputHeight {
                                let h = o * stride + i - g.padTop
                                if h < 0 || h >= g.inputHeight { continue }
                                for p in 0..<g.outputWidth {
                                    let w = p * stride + j - g.padLeft
                                    if w < 0 || w >= g.inputWidth { continue }
                                    sum += xs[((b * g.inputHeight + h) * g.inputWidth + w) * g.inputChannels + c]
                                        * ds[((b * g.outputHeight + o) * g.outputWidth + p) * filters + f]
                                }
                            }
                        }
                        dk[((i * g.kernelWidth + j) * g.inputChannels + c) * filters + f] = sum
                    }
                }
            }
        }
        return Tensor(shape: [g.kernelHeight, g.kernelWidth, g.inputChannels, filters], scalars: dk)
    }

    /// A transposed convolution by its scatter definition, with `kernel`
    /// `[kh, kw, F, C]` (Keras's layout): every input pixel `(i, j)` adds
    /// `x[n, i, j, c] · K[a, b, f, c]` to output pixel
    /// `(i·s + a − padTop, j·s + b − padLeft)`, where the padding is that
    /// of the convolution from the output size back to the input size;
    /// positions outside the output are dropped.
    package static func conv2DTranspose(_ x: Tensor, kernel: Tensor, bias: Tensor? = nil,
                                       stride: Int, padding: Padding) throws -> Tensor {
        guard x.rank == 4, kernel.rank == 4, kernel.shape[3] == x.shape[3] else {
            throw DAEError.shapeMismatch("naive conv2DTranspose kernel", expected: [0, 0, 0, x.shape.last ?? 0], actual: kernel.shape)
        }
        let (n, inH, inW, channels) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (kh, kw, filters) = (kernel.shape[0], kernel.shape[1], kernel.shape[2])
        let outH = ConvolutionGeometry.transposedOutputSize(input: inH, kernel: kh, stride: stride, padding: padding)
        let outW = ConvolutionGeometry.transposedOutputSize(input: inW, kernel: kw, stride: stride, padding: padding)
        let g = try ConvolutionGeometry(inputHeight: outH, inputWidth: outW, inputChannels: filters,
                                        kernelHeight: kh, kernelWidth: kw, stride: stride, padding: padding)
        let xs = x.scalars, ks = kernel.scalars
        var y = [Float](repeating: 0, count: n * outH * outW * filters)
        for b in 0..<n {
            for i in 0..<inH {
                for j in 0..<inW {
                    for a in 0..<kh {
                        let h = i * stride + a - g.padTop
                        if h < 0 || h >= outH { continue }
                        for e in 0..<kw {
                            let w = j * stride + e - g.padLeft
                            if w < 0 || w >= outW { continue }
                            for f in 0..<filters {
                                var sum: Float = 0
                                for c in 0..<channels {
                                    sum += xs[((b * inH + i) * inW + j) * channels + c]
                                        * ks[((a * kw + e) * filters + f) * channels + c]
                                }
                                y[((b * outH + h) * outW + w) * filters + f] += sum
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for index in y.indices { y[index] += bias.scalars[index % filters] }
        }
        return Tensor(shape: [n, outH, outW, filters], scalars: y)
    }

    private static func geometry(input x: Tensor, kh: Int, kw: Int, stride: Int, padding: Padding) throws -> ConvolutionGeometry {
        guard x.rank == 4 else { throw DAEError.shapeMismatch("naive convolution input (NHWC)", expected: [0, 0, 0, 0], actual: x.shape) }
        return try ConvolutionGeometry(inputHeight: x.shape[1], inputWidth: x.shape[2], inputChannels: x.shape[3],
                                       kernelHeight: kh, kernelWidth: kw, stride: stride, padding: padding)
    }
}
