import DAELayers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to cover an image larger than a model's input with overlapping tiles
/// of the model's size, and how to put the processed tiles back together.
///
/// Along each axis the tiles start at evenly spread origins: the first tile
/// is flush with the top/left edge, the last with the bottom/right edge, and
/// neighbours overlap by at least `minimumOverlap` pixels. Tiles are numbered
/// row-major: tile `t` starts at row `rowOrigins[t / columnOrigins.count]`
/// and column `columnOrigins[t % columnOrigins.count]`.
///
/// An image smaller than the tile along an axis gets one tile on that axis,
/// padded past the image's edge by repeating its last row or column; the
/// padding is dropped again by ``blend(tiles:)``.
///
/// ``blend(tiles:)`` averages the overlapping tiles with a smooth separable
/// weight (``window(length:)``) so seams do not show. Blending the unmodified
/// output of ``extractTiles(from:)`` gives back the image.
///
/// ```swift
/// let plan = try TilePlan(imageHeight: 61, imageWidth: 45, tileHeight: 28, tileWidth: 28, minimumOverlap: 8)
/// let clean = try plan.apply(to: image) { tiles in try model.denoise(tiles) }  // [1, 61, 45, 1]
/// ```
public struct TilePlan: Sendable, Equatable {
    /// The image's number of rows.
    public let imageHeight: Int
    /// The image's number of columns.
    public let imageWidth: Int
    /// A tile's number of rows (the model's input height).
    public let tileHeight: Int
    /// A tile's number of columns (the model's input width).
    public let tileWidth: Int
    /// The smallest overlap, in pixels, between neighbouring tiles.
    public let minimumOverlap: Int
    /// The first row of each row of tiles, ascending; the last is `max(imageHeight - tileHeight, 0)`.
    public let rowOrigins: [Int]
    /// The first column of each column of tiles, ascending; the last is `max(imageWidth - tileWidth, 0)`.
    public let columnOrigins: [Int]

    /// The smallest weight ``window(length:)`` gives a pixel, so that tile edges still count.
    public static let windowFloor: Float = 1e-3

    /// Plans the tiles for an image of `imageHeight × imageWidth`.
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when a size is not positive
    ///   or `minimumOverlap` is not in `0..<min(tileHeight, tileWidth)`.
    public init(imageHeight: Int, imageWidth: Int, tileHeight: Int, tileWidth: Int, minimumOverlap: Int = 0) throws {
        guard imageHeight > 0, imageWidth > 0, tileHeight > 0, tileWidth > 0 else {
            throw DAEError.invalidArgument(
                "tile plan: image \(imageHeight)x\(imageWidth) and tile \(tileHeight)x\(tileWidth) must be positive")
        }
        guard minimumOverlap >= 0, minimumOverlap < min(tileHeight, tileWidth) else {
            throw DAEError.invalidArgument(
                "tile plan: overlap \(minimumOverlap) must be in 0..<\(min(tileHeight, tileWidth)) for \(tileHeight)x\(tileWidth) tiles")
        }
        self.imageHeight = imageHeight
        self.imageWidth = imageWidth
        self.tileHeight = tileHeight
        self.tileWidth = tileWidth
        self.minimumOverlap = minimumOverlap
        self.rowOrigins = TilePlan.origins(length: imageHeight, tile: tileHeight, overlap: minimumOverlap)
        self.columnOrigins = TilePlan.origins(length: imageWidth, tile: tileWidth, overlap: minimumOverlap)
    }

    /// The number of tiles.
    public var tileCount: Int { rowOrigins.count * columnOrigins.count }

    /// The top-left corner of tile `index` (row-major order), in image pixels.
    public func origin(ofTile index: Int) -> (y: Int, x: Int) {
        (rowOrigins[index / columnOrigins.count], columnOrigins[index % columnOrigins.count])
    }

    /// Cuts an image `[1, imageHeight, imageWidth, c]` into tiles `[tileCount, tileHeight, tileWidth, c]`.
    ///
    /// - Throws: ``DAEError/shapeMismatch(_:expected:actual:)`` for another image shape.
    public func extractTiles(from image: Tensor) throws -> Tensor {
        let channels = try checkImage(image)
        var out = [Float]()
        out.reserveCapacity(tileCount * tileHeight * tileWidth * channels)
        image.withUnsafeBufferPointer { source in
            for t in 0..<tileCount {
                let (top, left) = origin(ofTile: t)
                for ty in 0..<tileHeight {
                    let y = min(top + ty, imageHeight - 1)  // edge replication below the image
                    for tx in 0..<tileWidth {
                        let x = min(left + tx, imageWidth - 1)
                        let base = (y * imageWidth + x) * channels
                        out.append(contentsOf: source[base..<base + channels])
                    }
                }
            }
        }
        return Tensor(shape: [tileCount, tileHeight, tileWidth, channels], scalars: out)
    }

    /// Puts tiles `[tileCount, tileHeight, tileWidth, c]` back into one image
    /// `[1, imageHeight, imageWidth, c]`, each pixel the weighted mean of the
    /// tiles covering it (weight `window(tileHeight)[ty] · window(tileWidth)[tx]`).
    ///
    /// - Throws: ``DAEError/shapeMismatch(_:expected:actual:)`` when the
    ///   tiles do not have this plan's count and size.
    public func blend(tiles: Tensor) throws -> Tensor {
        let shape = tiles.shape
        guard shape.count == 4, shape[0] == tileCount, shape[1] == tileHeight, shape[2] == tileWidth, shape[3] > 0 else {
            throw DAEError.shapeMismatch(
                "tiles to blend", expected: [tileCount, tileHeight, tileWidth, shape.last ?? 1], actual: shape)
        }
        let channels = shape[3]
        let weightY = TilePlan.window(length: tileHeight), weightX = TilePlan.window(length: tileWidth)
        var sum = [Double](repeating: 0, count: imageHeight * imageWidth * channels)
        var total = [Double](repeating: 0, count: imageHeight * imageWidth)
        tiles.withUnsafeBufferPointer { source in
            for t in 0..<tileCount {
                let (top, left) = origin(ofTile: t)
                for ty in 0..<min(tileHeight, imageHeight - top) {
                    for tx in 0..<min(tileWidth, imageWidth - left) {
                        let weight = Double(weightY[ty] * weightX[tx])
                        let pixel = (top + ty) * imageWidth + left + tx
                        let from = ((t * tileHeight + ty) * tileWidth + tx) * channels
                        total[pixel] += weight
                        for c in 0..<channels { sum[pixel * channels + c] += weight * Double(source[from + c]) }
                    }
                }
            }
        }
        let scalars = sum.indices.map { Float(sum[$0] / total[$0 / channels]) }
        return Tensor(shape: [1, imageHeight, imageWidth, channels], scalars: scalars)
    }

    /// Cuts `image` into tiles, runs `transform` on the batch of tiles (it must
    /// return a batch of the same shape, e.g. a model's `denoise`), and blends
    /// the result back into an image of the original size.
    ///
    /// - Throws: what ``extractTiles(from:)``, `transform` and ``blend(tiles:)`` throw.
    public func apply(to image: Tensor, _ transform: (Tensor) throws -> Tensor) throws -> Tensor {
        try blend(tiles: transform(extractTiles(from: image)))
    }

    /// The blending weight along one axis of a tile: a Hann-shaped bump
    /// `sin²(π (i + ½) / length)`, largest in the middle, never below ``windowFloor``.
    public static func window(length: Int) -> [Float] {
        (0..<length).map { i in
            let s = sin(Double.pi * (Double(i) + 0.5) / Double(length))
            return max(Float(s * s), windowFloor)
        }
    }

    /// Evenly spread origins from 0 to `length - tile`, neighbours at most `tile - overlap` apart.
    static func origins(length: Int, tile: Int, overlap: Int) -> [Int] {
        guard length > tile else { return [0] }
        let span = length - tile, step = tile - overlap
        let gaps = (span + step - 1) / step
        return (0...gaps).map { i in (i * span + gaps / 2) / gaps }
    }

    private func checkImage(_ image: Tensor) throws -> Int {
        let shape = image.shape
        guard shape.count == 4, shape[0] == 1, shape[1] == imageHeight, shape[2] == imageWidth, shape[3] > 0 else {
            throw DAEError.shapeMismatch(
                "image to tile", expected: [1, imageHeight, imageWidth, shape.last ?? 1], actual: shape)
        }
        return shape[3]
    }
}
