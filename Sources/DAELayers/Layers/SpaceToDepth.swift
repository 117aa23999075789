/// Pixel unshuffle and pixel shuffle in TensorFlow's channel order
/// (`tf.nn.space_to_depth` / `tf.nn.depth_to_space`, NHWC): each `b × b`
/// block of pixels becomes one pixel of `b²·C` channels, ordered by the
/// block's row, then its column, then the channel:
///
///     spaceToDepth: out[i, j, (bi·b + bj)·C + c] = in[i·b + bi, j·b + bj, c]
///
/// ``DepthToSpace`` is the exact inverse. Both are permutations, so each
/// backward pass is the other direction's forward pass on the gradient;
/// neither has parameters. A Keras copy of a network that uses them wraps
/// `tf.nn.space_to_depth` in a `Lambda` layer and loads the same weights.
enum PixelShuffle {
    /// Throws unless `shape` is `[height, width, channels]` of positive sizes and `block` is positive.
    static func checkShape(name: String, _ shape: [Int], block: Int) throws {
        guard shape.count == 3, shape.allSatisfy({ $0 > 0 }), block > 0 else {
            throw DAEError.invalidConfiguration("\(name): needs an input [height, width, channels] and a positive block, got \(shape), block \(block)")
        }
    }

    /// Moves `batch` images between the two layouts: `toDepth` reads
    /// `[h·b, w·b, c]` images and writes `[h, w, b²·c]`, otherwise the reverse.
    /// Each step copies `c` contiguous floats.
    static func rearrange(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
                          batch: Int, height h: Int, width w: Int, channels c: Int, block b: Int, toDepth: Bool) {
        let image = h * w * b * b * c
        for n in 0..<batch {
            let from = source + n * image, to = target + n * image
            for i in 0..<h {
                for bi in 0..<b {
                    for j in 0..<w {
                        for bj in 0..<b {
                            let wide = ((i * b + bi) * (w * b) + j * b + bj) * c   // [h·b, w·b, c]
                            let deep = (i * w + j) * (b * b * c) + (bi * b + bj) * c  // [h, w, b²·c]
                            if toDepth {
                                (to + deep).update(from: from + wide, count: c)
                            } else {
                                (to + wide).update(from: from + deep, count: c)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `tf.nn.space_to_depth(x, block)`: `[h, w, c]` → `[h / block, w / block, block²·c]`
/// (see ``PixelShuffle`` for the order). The height and width must be multiples of `block`.
///
/// ```swift
/// let down = try SpaceToDepth(name: "denoiser.downsample", inputShape: [64, 64, 4], block: 2)
/// let y = try down(x)   // [n, 32, 32, 16]
/// ```
public struct SpaceToDepth: WeightlessLayer {
    public let name: String
    public var kind: String { "SpaceToDepth" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// The side of the pixel blocks folded into channels.
    public let block: Int

    /// Folds `block × block` pixel blocks into channels; throws when the size is not a multiple of `block`.
    public init(name: String, inputShape: [Int], block: Int) throws {
        try PixelShuffle.checkShape(name: name, inputShape, block: block)
        guard inputShape[0] % block == 0, inputShape[1] % block == 0 else {
            throw DAEError.invalidConfiguration("\(name): input \(inputShape[0])x\(inputShape[1]) is not a multiple of the block \(block)")
        }
        self.name = name
        self.inputShape = inputShape
        self.outputShape = [inputShape[0] / block, inputShape[1] / block, inputShape[2] * block * block]
        self.block = block
    }

    /// This layer for inputs of `shape` (folds blocks of any height and width that are multiples of the block).
    public func resized(toInput shape: [Int]) throws -> any Layer {
        try SpaceToDepth(name: name, inputShape: shape, block: block)
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, workspace: UnsafeMutablePointer<Float>) {
        PixelShuffle.rearrange(input, into: output, batch: batch, height: outputShape[0], width: outputShape[1],
                               channels: inputShape[2], block: block, toDepth: true)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        guard let inputGradient else { return }
        PixelShuffle.rearrange(outputGradient, into: inputGradient, batch: batch, height: outputShape[0],
                               width: outputShape[1], channels: inputShape[2], block: block, toDepth: false)
    }
}

/// `tf.nn.depth_to_space(x, block)`: `[h, w, block²·c]` → `[h·block, w·block, c]`,
/// the inverse of ``SpaceToDepth``.
public struct DepthToSpace: WeightlessLayer {
    public let name: String
    public var kind: String { "DepthToSpace" }
    public let inputShape: [Int]
    public let outputShape: [Int]
    /// The side of the pixel blocks unfolded from channels.
    public let block: Int

    /// Unfolds channels into `block × block` pixel blocks; the channels must be a multiple of `block²`.
    public init(name: String, inputShape: [Int], block: Int) throws {
        try PixelShuffle.checkShape(name: name, inputShape, block: block)
        guard inputShape[2] % (block * block) == 0 else {
            throw DAEError.invalidConfiguration("\(name): \(inputShape[2]) channels are not a multiple of block² = \(block * block)")
        }
        self.name = name
        self.inputShape = inputShape
        self.outputShape = [inputShape[0] * block, inputShape[1] * block, inputShape[2] / (block * block)]
        self.block = block
    }

    /// This layer for inputs of `shape` (unfolds inputs of any height and width).
    public func resized(toInput shape: [Int]) throws -> any Layer {
        try DepthToSpace(name: name, inputShape: shape, block: block)
    }

    public func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        batch: Int, workspace: UnsafeMutablePointer<Float>) {
        PixelShuffle.rearrange(input, into: output, batch: batch, height: inputShape[0], width: inputShape[1],
                               channels: outputShape[2], block: block, toDepth: false)
    }

    public func backward(input: UnsafePointer<Float>, output: UnsafePointer<Float>,
                         outputGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                         parameterGradients: [UnsafeMutablePointer<Float>],
                         batch: Int, workspace: UnsafeMutablePointer<Float>) {
        guard let inputGradient else { return }
        PixelShuffle.rearrange(outputGradient, into: inputGradient, batch: batch, height: inputShape[0],
                               width: inputShape[1], channels: outputShape[2], block: block, toDepth: true)
    }
}

