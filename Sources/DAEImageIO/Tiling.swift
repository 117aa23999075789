import DAELayers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one tiler: how to cover an image larger than a model's input with
/// overlapping tiles of the model's size and put the processed tiles back
/// together (blended tiles, for a model of a fixed input size), and how to
/// cut an axis into halo tiles (``haloSpans(length:side:alignment:)``, for
/// a fully convolutional model). In memory (``extractTiles(from:)``,
/// ``blend(tiles:)``) and streamed (``cutRow(_:from:firstRow:channels:into:)``,
/// ``Blender``) the same code cuts and sums, so both give the same bits.
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
        let rowSize = columnOrigins.count * tileHeight * tileWidth * channels
        var tiles = Tensor(zeros: [tileCount, tileHeight, tileWidth, channels])
        image.withUnsafeBufferPointer { source in
            tiles.withUnsafeMutableBufferPointer { out in
                for tileRow in rowOrigins.indices {
                    cutRow(tileRow, from: source.baseAddress!, firstRow: 0, channels: channels,
                           into: out.baseAddress! + tileRow * rowSize)
                }
            }
        }
        return tiles
    }

    /// Cuts row `tileRow` of tiles (the columns of tiles `columns`, default
    /// all, left to right)
    /// out of image rows held in `rows` (row `firstRow` first, each of
    /// `imageWidth × channels` values), repeating the last row and column
    /// past the image's edge, into `tiles` (`columnOrigins.count × tileHeight
    /// × tileWidth × channels`). `rows` must hold the image rows
    /// `rowOrigins[tileRow] ..< min(rowOrigins[tileRow] + tileHeight, imageHeight)`.
    ///
    /// What ``extractTiles(from:)`` does for a whole image, and what a
    /// streamed pass does for the rows it holds: both cut the same tiles.
    public func cutRow(_ tileRow: Int, columns: Range<Int>? = nil, from rows: UnsafePointer<Float>, firstRow: Int,
                       channels: Int, into tiles: UnsafeMutablePointer<Float>) {
        let top = rowOrigins[tileRow], rowSize = imageWidth * channels
        var to = tiles
        for left in columnOrigins[columns ?? columnOrigins.indices] {
            for ty in 0..<tileHeight {
                let row = rows + (min(top + ty, imageHeight - 1) - firstRow) * rowSize  // edge replication below the image
                let inside = max(0, min(tileWidth, imageWidth - left))
                to.update(from: row + left * channels, count: inside * channels)
                to += inside * channels
                for _ in inside..<tileWidth {  // edge replication right of the image
                    to.update(from: row + (imageWidth - 1) * channels, count: channels)
                    to += channels
                }
            }
        }
    }

    /// Puts tiles `[tileCount, tileHeight, tileWidth, c]` back into one image
    /// `[1, imageHeight, imageWidth, c]`, each pixel the weighted mean of the
    /// tiles covering it (weight `window(tileHeight)[ty] · window(tileWidth)[tx]`).
    ///
    /// The sums run in ``Blender``'s order, so the result is bit for bit
    /// what a streamed pass that blends one row of tiles at a time writes.
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
        var blender = Blender(plan: self, channels: channels, pendingRows: imageHeight)
        var image = Tensor(zeros: [1, imageHeight, imageWidth, channels])
        let rowSize = columnOrigins.count * tileHeight * tileWidth * channels
        tiles.withUnsafeBufferPointer { source in
            image.withUnsafeMutableBufferPointer { out in
                for tileRow in rowOrigins.indices {
                    blender.add(tileRow: tileRow, tiles: source.baseAddress! + tileRow * rowSize)
                }
                blender.finish(upTo: imageHeight, into: out.baseAddress!)
            }
        }
        return image
    }

    /// The weighted sums of blended tiles for a band of image rows not yet
    /// final: rows `finished ..< finished + pendingRows`. Rows of tiles are
    /// added top to bottom; rows above the next row of tiles are final and
    /// can be taken out (``finish(upTo:into:)``), so a streamed pass holds
    /// at most one tile height of sums whatever the image's height.
    public struct Blender: Sendable {
        /// The tiles' plan.
        public let plan: TilePlan
        /// Values per pixel.
        public let channels: Int
        /// Rows finished (taken out) so far.
        public private(set) var finished = 0
        private let capacity: Int
        private var sums: [Double], weights: [Double]
        private let weightY: [Float], weightX: [Float]

        /// A blender holding up to `pendingRows` rows of sums (at least one
        /// tile height, enough for a streamed pass that finishes the rows
        /// above each row of tiles before adding it; the image's height for a whole one).
        public init(plan: TilePlan, channels: Int, pendingRows: Int) {
            self.plan = plan
            self.channels = channels
            capacity = max(pendingRows, min(plan.tileHeight, plan.imageHeight))
            sums = [Double](repeating: 0, count: capacity * plan.imageWidth * channels)
            weights = [Double](repeating: 0, count: capacity * plan.imageWidth)
            weightY = TilePlan.window(length: plan.tileHeight)
            weightX = TilePlan.window(length: plan.tileWidth)
        }

        /// Adds row `tileRow` of processed tiles, the columns of tiles `columns`
        /// (default all; `columns.count × tileHeight × tileWidth × channels`
        /// values, left to right), each pixel weighted by the window. The
        /// columns of a row of tiles may come in groups, left to right: the
        /// sums are the same.
        public mutating func add(tileRow: Int, columns: Range<Int>? = nil, tiles: UnsafePointer<Float>) {
            let (tileHeight, tileWidth, width) = (plan.tileHeight, plan.tileWidth, plan.imageWidth)
            let top = plan.rowOrigins[tileRow], tileSize = tileHeight * tileWidth * channels
            precondition(top >= finished && min(top + tileHeight, plan.imageHeight) - finished <= capacity,
                         "rows of tiles are added top to bottom, and finished rows taken out")
            for (t, left) in plan.columnOrigins[columns ?? plan.columnOrigins.indices].enumerated() {
                for ty in 0..<min(tileHeight, plan.imageHeight - top) {
                    let row = top + ty - finished
                    for tx in 0..<min(tileWidth, width - left) {
                        let weight = Double(weightY[ty] * weightX[tx])
                        let pixel = row * width + left + tx
                        weights[pixel] += weight
                        let from = t * tileSize + (ty * tileWidth + tx) * channels
                        for c in 0..<channels { sums[pixel * channels + c] += weight * Double(tiles[from + c]) }
                    }
                }
            }
        }

        /// Writes the blended rows `finished ..< end` (final: no later row of
        /// tiles reaches them) to `output`, `(end − finished) × imageWidth × channels`
        /// values, and drops them.
        public mutating func finish(upTo end: Int, into output: UnsafeMutablePointer<Float>) {
            let count = end - finished, width = plan.imageWidth, channels = self.channels
            guard count > 0 else { return }
            for i in 0..<(count * width * channels) { output[i] = Float(sums[i] / weights[i / channels]) }
            // Shift the remaining rows to the front.
            let keep = capacity - count
            sums.withUnsafeMutableBufferPointer { s in
                s.baseAddress!.update(from: s.baseAddress! + count * width * channels, count: keep * width * channels)
                (s.baseAddress! + keep * width * channels).update(repeating: 0, count: count * width * channels)
            }
            weights.withUnsafeMutableBufferPointer { w in
                w.baseAddress!.update(from: w.baseAddress! + count * width, count: keep * width)
                (w.baseAddress! + keep * width).update(repeating: 0, count: count * width)
            }
            finished = end
        }
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

    /// The other way to cut an axis, for a fully convolutional model's halo
    /// tiles (which need no blending: each reads its receptive radius around
    /// it, and writes only its own span): `0..<length` cut into the fewest
    /// near-equal spans of at most `side`, each starting at a multiple of
    /// `alignment` (the model's pixel-unshuffle factor, or the Winograd tile).
    /// Spans stay large (no thin remainder, whose small GEMMs OpenBLAS may
    /// round differently), and the cut depends only on `length`, `side` and
    /// `alignment`, so a band of rows and the whole image are cut alike.
    public static func haloSpans(length: Int, side: Int, alignment: Int = 1) -> [Range<Int>] {
        let units = (length + alignment - 1) / alignment, side = max(side / alignment, 1)
        let count = max(1, (units + side - 1) / side)
        return (0..<count).map { i in
            min(length, ((i * units) / count) * alignment)..<min(length, (((i + 1) * units) / count) * alignment)
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
