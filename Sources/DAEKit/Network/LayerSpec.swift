import DAELayers

/// One layer of a network description: what it is, its sizes, its
/// activation and its Keras name.
///
/// A ``DenoisingAutoencoder/Configuration`` describes its network as a list
/// of these (``DenoisingAutoencoder/Configuration/layerSpecs``). Everything
/// that depends on the architecture comes from that one list: the layers
/// themselves (``makeLayer(inputShape:using:)``), their output shapes, the
/// parameter count and memory estimate (``ResourceLimits``) and the
/// summary. (A fully convolutional network runs on other image sizes by
/// resizing its layers, ``Sequential/resized(toInput:)``.) A new
/// kind of layer is one new ``Kind`` case here and its forward/backward pair
/// in `DAELayers`.
///
/// ```swift
/// let specs = DenoisingAutoencoder.Configuration.ffdnet(channels: 3).layerSpecs
/// // denoiser.downsample (SpaceToDepth 2), denoiser.conv0 … conv10 (Conv2D 64, ReLU),
/// // denoiser.output (Conv2D 12, linear), denoiser.upsample (DepthToSpace 2)
/// ```
public struct LayerSpec: Sendable, Hashable {
    /// The kinds of layer a network can hold, with their sizes.
    public enum Kind: Sendable, Hashable {
        /// `Conv2D(filters, kernelSize × kernelSize, stride, same)`: kernel `[k, k, in, filters]`.
        case conv2D(filters: Int, kernelSize: Int, stride: Int)
        /// `Conv2DTranspose(filters, kernelSize × kernelSize, stride, same)`: kernel `[k, k, filters, in]`.
        case conv2DTranspose(filters: Int, kernelSize: Int, stride: Int)
        /// `Dense(units)` on a vector: kernel `[in, units]`.
        case dense(units: Int)
        /// `Flatten`: an image to a vector in (h, w, c) order.
        case flatten
        /// `Reshape(shape)`: a vector back to an image.
        case reshape(to: [Int])
        /// `tf.nn.space_to_depth(block)`: `[h, w, c]` → `[h/b, w/b, b²c]`.
        case spaceToDepth(block: Int)
        /// `tf.nn.depth_to_space(block)`: `[h, w, b²c]` → `[h·b, w·b, c]`.
        case depthToSpace(block: Int)
    }

    /// The Keras-style name, prefix of the layer's parameter names (`denoiser.conv0`).
    public var name: String
    /// What the layer is.
    public var kind: Kind
    /// The activation after the layer's bias (identity for layers without one).
    public var activation: Activation
    /// How a new convolution's kernel is drawn (Keras's default: Glorot uniform).
    public var kernelInitializer: KernelInitializer

    /// A spec; `activation` defaults to identity, the initializer to Glorot uniform.
    public init(_ name: String, _ kind: Kind, activation: Activation = .identity,
                kernelInitializer: KernelInitializer = .glorotUniform) {
        self.name = name
        self.kind = kind
        self.activation = activation
        self.kernelInitializer = kernelInitializer
    }

    /// The layer for inputs of `inputShape`, with kernels drawn by
    /// ``kernelInitializer`` and zero biases from `rng` (layers without
    /// weights draw nothing; dense and transposed layers draw Glorot uniform).
    public func makeLayer(inputShape: [Int], using rng: inout SplitMix64) throws -> any Layer {
        switch kind {
        case let .conv2D(filters, k, stride):
            return try Conv2D(name: name, inputShape: inputShape, filters: filters, kernelSize: k, stride: stride,
                              padding: .same, activation: activation, kernelInitializer: kernelInitializer, using: &rng)
        case let .conv2DTranspose(filters, k, stride):
            return try Conv2DTranspose(name: name, inputShape: inputShape, filters: filters, kernelSize: k, stride: stride,
                                       padding: .same, activation: activation, using: &rng)
        case let .dense(units):
            return try Dense(name: name, inputFeatures: Tensor.elementCount(of: inputShape), units: units,
                             activation: activation, using: &rng)
        case .flatten:
            return try Reshape.flatten(name: name, inputShape: inputShape)
        case let .reshape(shape):
            return try Reshape(name: name, inputShape: inputShape, outputShape: shape)
        case let .spaceToDepth(block):
            return try SpaceToDepth(name: name, inputShape: inputShape, block: block)
        case let .depthToSpace(block):
            return try DepthToSpace(name: name, inputShape: inputShape, block: block)
        }
    }

    /// The output shape for an input of `input`, computed with checked
    /// arithmetic; nil when a size overflows or does not fit the layer.
    func outputShape(for input: [Int]) -> [Int]? {
        switch kind {
        case let .conv2D(filters, _, stride):
            guard input.count == 3, stride > 0 else { return nil }
            return [(input[0] + stride - 1) / stride, (input[1] + stride - 1) / stride, filters]
        case let .conv2DTranspose(filters, _, stride):
            guard input.count == 3, let h = CheckedSum.product(input[0], stride), let w = CheckedSum.product(input[1], stride) else { return nil }
            return [h, w, filters]
        case let .dense(units):
            return [units]
        case .flatten:
            return CheckedSum.product(input).map { [$0] }
        case let .reshape(shape):
            return shape
        case let .spaceToDepth(b):
            guard input.count == 3, b > 0, input[0] % b == 0, input[1] % b == 0, let c = CheckedSum.product(input[2], b, b) else { return nil }
            return [input[0] / b, input[1] / b, c]
        case let .depthToSpace(b):
            guard input.count == 3, b > 0, input[2] % (b * b) == 0, let h = CheckedSum.product(input[0], b),
                  let w = CheckedSum.product(input[1], b) else { return nil }
            return [h, w, input[2] / (b * b)]
        }
    }

    /// Adds the layer's trainable scalars to `parameters` and the floats one
    /// example needs (its output and its patch or column matrix) to
    /// `perImage`, for an input of `input` giving `output`.
    func estimate(input: [Int], output: [Int], parameters: inout CheckedSum, perImage: inout CheckedSum) {
        switch kind {
        case let .conv2D(filters, k, _):  // kernel [k, k, in, out], bias; output and patch matrix
            parameters.add(k, k, input[2], filters)
            parameters.add(filters)
            perImage.add(output[0], output[1], filters)
            perImage.add(output[0], output[1], k, k, input[2])
        case let .conv2DTranspose(filters, k, _):  // kernel [k, k, out, in], bias; the column matrix of the input pixels
            parameters.add(k, k, filters, input[2])
            parameters.add(filters)
            perImage.add(input[0], input[1], k, k, filters)
            perImage.add(output[0], output[1], filters)
        case let .dense(units):
            parameters.add(input[0], units)
            parameters.add(units)
            perImage.add(units)
        case .flatten, .reshape:
            break  // shares its input's buffer
        case .spaceToDepth, .depthToSpace:
            perImage.add(output[0], output[1], output[2])
        }
    }

    /// Pixels of the input each output pixel depends on around it, for a
    /// stride-1 layer at its own resolution; nil when the layer depends on
    /// the whole input (dense layers) or changes the resolution.
    var radius: Int? {
        switch kind {
        case let .conv2D(_, k, stride) where stride == 1: return (k - 1) / 2
        default: return nil
        }
    }

    /// How far, left and right (or up and down), of an output pixel the input
    /// pixels whose values can change its bits (not only its value) lie, by
    /// the pixel's place `k` in its Winograd tile (positions counted from the
    /// tile grid), when stride-1 3×3 convolutions run as Winograd
    /// F(`m`×`m`, 3×3): for such a layer with `m` = 4,
    /// ``Conv2D/winogradF4Reach`` (1, 1, 2, 3 to the left; 3, 2, 1, 1 to the
    /// right); for any other layer its ``radius`` on both sides (F(2×2) reads
    /// only the 3×3 window, and so do direct loops and im2col + GEMM). Nil
    /// when ``radius`` is. Every 3×3 stride-1 convolution counts as F(4×4),
    /// also those a CPU runs as direct loops (few input channels): a wider
    /// reach only makes the bound ``Swift/Array/exactnessRadius(winogradOutputTile:)``
    /// larger, so it holds on every CPU.
    func reach(winogradOutputTile m: Int) -> (left: (Int) -> Int, right: (Int) -> Int)? {
        if m == 4, case let .conv2D(_, kernelSize, stride) = kind, kernelSize == 3, stride == 1 {
            let (left, right) = Conv2D.winogradF4Reach
            return ({ left[$0 % 4] }, { right[$0 % 4] })
        }
        guard let r = radius else { return nil }
        return ({ _ in r }, { _ in r })
    }
}

extension LayerSpec.Kind {
    /// Keras's name for the kind, for summaries and messages.
    public var kerasName: String {
        switch self {
        case .conv2D: "Conv2D"
        case .conv2DTranspose: "Conv2DTranspose"
        case .dense: "Dense"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .spaceToDepth: "SpaceToDepth"
        case .depthToSpace: "DepthToSpace"
        }
    }
}

extension Array where Element == LayerSpec {
    /// Every layer's output shape for an input of `input`, or nil when a size
    /// overflows or a layer cannot take its input.
    func shapes(input: [Int]) -> [[Int]]? {
        var shape = input
        var shapes: [[Int]] = []
        for spec in self {
            guard let next = spec.outputShape(for: shape), next.allSatisfy({ $0 > 0 }) else { return nil }
            shapes.append(next)
            shape = next
        }
        return shapes
    }

    /// The layers for inputs of `input`, with weights drawn from `rng`.
    func makeNetwork(input: [Int], using rng: inout SplitMix64) throws -> Sequential {
        var layers: [any Layer] = []
        var shape = input
        for spec in self {
            let layer = try spec.makeLayer(inputShape: shape, using: &rng)
            layers.append(layer)
            shape = layer.outputShape
        }
        return try Sequential(layers)
    }

    /// The Winograd output tile tiled inference (`ResidualInference`) runs
    /// the stride-1 3×3 convolutions with: F(4×4, 3×3) (training keeps F(2×2, 3×3)).
    static var inferenceWinogradOutputTile: Int { 4 }

    /// The receptive radius of a fully convolutional stack in input pixels:
    /// each stride-1 convolution adds its radius at the current resolution,
    /// and a space-to-depth block multiplies what follows by its block. Nil
    /// when a layer depends on the whole input. What a user is shown; the
    /// tiler's halo is ``exactnessRadius``.
    var receptiveRadius: Int? { sum { $0.radius } }

    /// The halo tiled inference needs for every output pixel of a tile to
    /// carry the whole image's bits when the stride-1 3×3 convolutions run as
    /// Winograd F(`m`×`m`, 3×3), rounded up to a multiple of
    /// ``tileAlignment(winogradOutputTile:)`` (so that a tile's input starts
    /// on the whole image's Winograd tile grid).
    ///
    /// A tile's input is cut where the whole image goes on (there it is zero
    /// padded instead), so values near the cut differ; each layer widens the
    /// band of differing values by its ``LayerSpec/reach(winogradOutputTile:)``.
    /// Followed layer by layer at each layer's resolution from a cut on the
    /// grid: the first exact position after a cut at 0 and the last before a
    /// cut at 0, a pixel exact when every input pixel it reads is. For
    /// F(4×4) the band grows by 1 and 3 on alternate layers (a pixel's reach
    /// depends on its place in its tile, and the band's edge moves between
    /// places), 2 a layer on average, not the reach's maximum 3: the built-in
    /// deep model (17 convolutions, receptive radius 17) needs 33, rounded
    /// up to 36 (3 a layer would say 51, rounded up to 52). For F(2×2) and
    /// the direct loops: the receptive radius, rounded up. Nil when a layer
    /// depends on the whole input.
    func exactnessRadius(winogradOutputTile m: Int) -> Int? {
        /// ⌈a / b⌉ and ⌊a / b⌋ for any sign of `a`, `b` > 0.
        func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
        func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
        /// `x` mod `m` in 0..<m for any sign.
        func place(_ x: Int) -> Int { ((x % Swift.max(m, 1)) + Swift.max(m, 1)) % Swift.max(m, 1) }
        // first: the first exact position after a cut at 0; last: the last before a cut at 0 (a negative position).
        var first = 0, last = -1, scale = 1
        for spec in self {
            switch spec.kind {
            case let .spaceToDepth(b):
                first = ceilDiv(first, b)
                last = floorDiv(last + 1, b) - 1
                scale *= b
            case let .depthToSpace(b):
                first *= b
                last = (last + 1) * b - 1
                scale /= Swift.max(b, 1)
            default:
                guard let (left, right) = spec.reach(winogradOutputTile: m) else { return nil }
                // Every output from x on reads only exact inputs (an output reads at most `limit` away).
                let limit = (0..<Swift.max(m, 1)).map { Swift.max(left($0), right($0)) }.max() ?? 0
                var x = first
                while stride(from: x, through: first + limit, by: 1).contains(where: { $0 - left(place($0)) < first }) { x += 1 }
                var y = last
                while stride(from: last - limit, through: y, by: 1).contains(where: { $0 + right(place($0)) > last }) { y -= 1 }
                (first, last) = (x, y)
            }
        }
        let radius = Swift.max(first, -1 - last) * Swift.max(scale, 1)
        let alignment = tileAlignment(winogradOutputTile: m)
        return (radius + alignment - 1) / alignment * alignment
    }

    /// ``exactnessRadius(winogradOutputTile:)`` for the tile inference runs (``inferenceWinogradOutputTile``).
    var exactnessRadius: Int? { exactnessRadius(winogradOutputTile: Self.inferenceWinogradOutputTile) }

    /// Each layer's `radius` at its resolution, summed in input pixels (a
    /// space-to-depth block multiplies what follows by its block); nil when one is nil.
    private func sum(_ radius: (LayerSpec) -> Int?) -> Int? {
        var total = 0, scale = 1
        for spec in self {
            switch spec.kind {
            case let .spaceToDepth(b): scale *= b
            case let .depthToSpace(b): scale /= Swift.max(b, 1)
            default:
                guard let r = radius(spec) else { return nil }
                total += r * scale
            }
        }
        return total
    }

    /// What tile origins of a fully convolutional stack are multiples of when
    /// its stride-1 3×3 convolutions run as Winograd F(`m`×`m`, 3×3):
    /// ``alignment``, and `m` times the resolution factor of every such
    /// convolution, whose Winograd tiles then start on the same grid in every
    /// tile as in the whole image (the rounding depends on a pixel's place in
    /// its tile; `WinogradConvolution.swift`, `WinogradF4Convolution.swift`).
    func tileAlignment(winogradOutputTile m: Int) -> Int {
        var result = alignment, scale = 1
        func lcm(_ a: Int, _ b: Int) -> Int {
            var (x, y) = (a, b)
            while y != 0 { (x, y) = (y, x % y) }
            return a / x * b
        }
        for spec in self {
            switch spec.kind {
            case let .spaceToDepth(b): scale *= b
            case let .depthToSpace(b): scale /= Swift.max(b, 1)
            case let .conv2D(_, kernelSize, stride) where kernelSize == 3 && stride == 1:
                result = lcm(result, m * Swift.max(scale, 1))
            default: break
            }
        }
        return result
    }

    /// ``tileAlignment(winogradOutputTile:)`` for the tile inference runs (``inferenceWinogradOutputTile``).
    var tileAlignment: Int { tileAlignment(winogradOutputTile: Self.inferenceWinogradOutputTile) }

    /// The product of the space-to-depth blocks: image sides (and tile
    /// origins) of a fully convolutional stack must be multiples of it.
    var alignment: Int {
        reduce(1) { acc, spec in
            if case let .spaceToDepth(b) = spec.kind { return acc * b }
            return acc
        }
    }
}
