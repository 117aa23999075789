import DAELayers
import DAETestSupport
import Testing

/// Pixel unshuffle and shuffle: TensorFlow's channel order, exact inverses,
/// gradients, and the shapes they refuse.
@Suite("SpaceToDepth and DepthToSpace")
struct SpaceToDepthTests {
    /// `tf.nn.space_to_depth` written as its definition, one element at a time.
    static func naiveSpaceToDepth(_ x: Tensor, block b: Int) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let source = x.scalars
        var y = [Float](repeating: 0, count: x.count)
        for image in 0..<n {
            for i in 0..<(h / b) {
                for j in 0..<(w / b) {
                    for bi in 0..<b {
                        for bj in 0..<b {
                            for ch in 0..<c {
                                let from = ((image * h + i * b + bi) * w + j * b + bj) * c + ch
                                let to = ((image * (h / b) + i) * (w / b) + j) * (c * b * b) + (bi * b + bj) * c + ch
                                y[to] = source[from]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, h / b, w / b, c * b * b], scalars: y)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let batch: Int, shape: [Int], block: Int
        var testDescription: String { "batch \(batch) \(shape) block \(block)" }
    }

    /// Odd sides (multiples of the block), 1 to 47 channels, blocks 1 to 3.
    static let cases = [Case(batch: 1, shape: [2, 2, 1], block: 2), Case(batch: 3, shape: [6, 10, 3], block: 2),
                        Case(batch: 2, shape: [9, 3, 1], block: 3), Case(batch: 1, shape: [2, 4, 47], block: 2),
                        Case(batch: 2, shape: [5, 7, 4], block: 1), Case(batch: 32, shape: [4, 2, 4], block: 2)]

    @Test("SpaceToDepth matches the definition; DepthToSpace inverts it exactly", arguments: cases)
    func matchesNaiveLoops(_ c: Case) throws {
        let x = randomTensor(shape: [c.batch] + c.shape, seed: UInt64(c.shape.reduce(0, +)))
        let down = try SpaceToDepth(name: "down", inputShape: c.shape, block: c.block)
        let y = try down(x)
        #expect(y.shape == [c.batch, c.shape[0] / c.block, c.shape[1] / c.block, c.shape[2] * c.block * c.block])
        #expect(y.scalars == Self.naiveSpaceToDepth(x, block: c.block).scalars)
        let up = try DepthToSpace(name: "up", inputShape: down.outputShape, block: c.block)
        #expect(try up(y).scalars == x.scalars)
    }

    @Test("TensorFlow's documented example: [[1,2,3],[4,5,6]],[[7,8,9],[10,11,12]] becomes one pixel of 12")
    func tensorFlowExample() throws {
        let x = Tensor(shape: [1, 2, 2, 3], scalars: (1...12).map(Float.init))
        let y = try SpaceToDepth(name: "down", inputShape: [2, 2, 3], block: 2)(x)
        #expect(y.shape == [1, 1, 1, 12])
        #expect(y.scalars == (1...12).map(Float.init))
        // And a 4x4 single-channel image: each 2x2 block becomes the four channels of one pixel.
        let grid = Tensor(shape: [1, 4, 4, 1], scalars: (1...16).map(Float.init))
        let blocks = try SpaceToDepth(name: "down", inputShape: [4, 4, 1], block: 2)(grid)
        #expect(blocks.scalars == [1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16])
    }

    @Test("Both backward passes match finite differences", arguments: [1, 2, 3])
    func gradients(_ block: Int) throws {
        let checker = GradientChecker()
        let down = try SpaceToDepth(name: "down", inputShape: [3 * block, 2 * block, 2], block: block)
        checker.expectPasses(try checker.check(down, input: randomTensor(shape: [2, 3 * block, 2 * block, 2], seed: 71)), "SpaceToDepth")
        let up = try DepthToSpace(name: "up", inputShape: [3, 2, 2 * block * block], block: block)
        checker.expectPasses(try checker.check(up, input: randomTensor(shape: [2, 3, 2, 2 * block * block], seed: 72)), "DepthToSpace")
    }

    @Test("Sizes that are not multiples of the block are refused with the reason")
    func refusesBadShapes() {
        #expect(throws: DAEError.self) { try SpaceToDepth(name: "down", inputShape: [5, 4, 3], block: 2) }
        #expect(throws: DAEError.self) { try SpaceToDepth(name: "down", inputShape: [4, 4, 3], block: 0) }
        #expect(throws: DAEError.self) { try DepthToSpace(name: "up", inputShape: [4, 4, 6], block: 2) }
        #expect(throws: DAEError.self) { try DepthToSpace(name: "up", inputShape: [4, 4], block: 2) }
        do {
            _ = try SpaceToDepth(name: "denoiser.downsample", inputShape: [5, 4, 3], block: 2)
        } catch {
            #expect("\(error)".contains("denoiser.downsample") && "\(error)".contains("not a multiple"))
        }
    }
}
