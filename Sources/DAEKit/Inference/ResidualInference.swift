import DAELayers
import Foundation

/// Exact inference of a residual (fully convolutional) model on images of
/// any size, in memory bounded by the tile size.
///
/// The output is cut into tiles of at most ``tileSide``² pixels. The
/// stride-1 3×3 convolutions run as Winograd F(4×4, 3×3)
/// (``Sequential/withWinogradF4(_:gradients:f4WeightGradient:)``), whose rounding reaches up to 3
/// pixels from an output pixel, not 1. Each tile's input is the tile grown
/// on every side (clipped at the image's edges) by the halo `R`, the model's
/// exactness radius (`LayerSpec` ``exactnessRadius``: the band of values a
/// cut changes, followed layer by layer, rounded up to ``tileAlignment``),
/// not its receptive radius; tile origins are multiples of ``tileAlignment``
/// (4 at each such layer's resolution), so the Winograd tiles fall on the whole image's
/// grid. Every output pixel then sees exactly the values, and the zero
/// padding at the image's edges, that a pass over the whole image would give
/// it, bit for bit: tiled output equals whole-image output, up to the order
/// in which OpenBLAS sums (which can change with a product's size; measured
/// differences stay below 10⁻⁵; with the Winograd kernels on AVX-512 the
/// bits are the same). The tiles of a call form one queue,
/// largest first, that the workers take from one tile at a time (any shape:
/// no worker waits for a group to finish), each worker with an
/// inference-only workspace sized for the largest tile of the image.
///
/// Cost: about `(side + 2R)² / side²` of a whole-image pass for tiles of
/// `side`: for the built-in deep model (R = 36 with F(4×4); its receptive
/// radius is 17) 1.30× at 512-pixel tiles, 1.64× at 256 (Docs/Benchmarks.md,
/// "Winograd F(4×4, 3×3) for inference").
struct ResidualInference {
    /// The largest side of an output tile (and the height of a file's bands,
    /// up to ``bandSamples``).
    /// Memory grows with it: a worker's two activations hold (side + 2R)² × 48
    /// floats (131 MB at 512 with R = 36), and a band of a file `side + 2R`
    /// rows. 512 since F(4×4), whose halo is twice F(2×2)'s: the built-in deep
    /// model's 12 MP photograph took 46.5 s at 256, 42.9 s at 384 and 36.1 s
    /// at 512 (peak 179, 277 and 411 MB; Docs/Benchmarks.md, "Winograd F(4×4, 3×3) for inference").
    static let tileSide = 512

    /// The samples (width × channels × rows) of a band of a file, and of a
    /// row of tiles, at most: 12 × 2²⁰. A photograph up to 4096 pixels wide
    /// in colour has bands of ``tileSide`` rows; a wider one has fewer rows a
    /// band (``bandRows(width:channels:alignment:)``), so that its buffers
    /// stay bounded: a 20000-pixel-wide panorama takes 208-row bands, and the
    /// widest row streamed (2²⁰ samples) 16-row ones.
    static let bandSamples = 12 << 20

    /// The rows of a band (and the most rows of a tile) for an image `width`
    /// pixels wide of `channels`: ``tileSide`` unless ``bandSamples`` allows
    /// fewer, a multiple of `alignment` (the tile alignment), and at least 16.
    /// The in-memory pass and the streamed one cut the same rows, so their
    /// tiles, and bits, are the same.
    static func bandRows(width: Int, channels: Int, alignment: Int) -> Int {
        let fitting = bandSamples / max(1, width * channels) / alignment * alignment
        let least = (16 + alignment - 1) / alignment * alignment
        return min(tileSide, max(least, fitting))
    }

    /// `0..<length` cut into output spans for halo tiles: ``TilePlan/haloSpans(length:side:alignment:)``
    /// with sides of at most `side`.
    static func spans(_ length: Int, side: Int = tileSide, alignment: Int = 1) -> [Range<Int>] {
        TilePlan.haloSpans(length: length, side: side, alignment: alignment)
    }

    /// The largest side of this inference's output tiles: ``tileSide`` unless
    /// a test asks for small tiles (many tiles on a small image).
    var side = ResidualInference.tileSide

    let model: DenoisingAutoencoder
    /// The halo: the model's exactness radius (a multiple of ``tileAlignment``,
    /// `LayerSpec` ``exactnessRadius``). A `var` so that a test can show that
    /// the receptive radius is not enough.
    var radius: Int
    /// The image's channels, and the network's (one more with a noise-level map).
    let channels: Int, networkChannels: Int
    /// Image sides are multiples of this (the pixel-unshuffle factor).
    let alignment: Int
    /// Tile origins (and band origins) are multiples of this: ``alignment``
    /// and the Winograd tile's 4 at each resolution (`LayerSpec` `tileAlignment`).
    let tileAlignment: Int
    /// The noise std written into the noise-level map channel, if the model has one.
    var noiseLevel: Float = 0
    /// The height of the whole image when ``denoise(_:height:width:rows:into:)``
    /// is given it band by band (each call's `height` is then its band's
    /// rows): the engine is sized once, for the tallest tile any band will
    /// cut, instead of again when a taller band comes.
    var imageHeight: Int? = nil
    /// The model's network with its stride-1 3×3 convolutions as Winograd
    /// F(4×4, 3×3), kernels transformed once; every tile runs it resized to
    /// its shape (``Sequential/resized(toInput:)``: the same weights and
    /// transformed kernels, the geometry of the tile).
    private let network: Sequential
    /// ``network`` with its Winograd passes split across the model's workers
    /// (``Sequential/withWinogradThreads(_:)``), for an image or band that is
    /// one tile: all cores on its one pass, instead of cutting it in more
    /// tiles whose halos would be computed twice (1.14× the work for a
    /// 512×512 crop cut in two).
    private let threadedNetwork: Sequential
    /// The network resized for each tile shape met so far, and whether threaded (layer structs sharing the weights: cheap).
    private var resized: [[Int]: Sequential] = [:]
    /// One engine, sized for the largest tile met so far: a workspace sized
    /// for an image serves every smaller image of the same network (each
    /// layer's buffers only shrink), so tiles of every shape share it. A
    /// one-tile pass (`threaded`) gets an engine of one workspace whose
    /// Winograd scratch holds a block per thread; tiles, one workspace per worker.
    private var engine: (engine: DataParallelEngine, shape: [Int], threaded: Bool)?

    init(model: DenoisingAutoencoder) {
        self.model = model
        let configuration = model.configuration
        alignment = configuration.layerSpecs.alignment
        tileAlignment = configuration.layerSpecs.tileAlignment
        radius = configuration.layerSpecs.exactnessRadius ?? 0
        channels = configuration.inputShape[2]
        networkChannels = configuration.networkInputShape[2]
        network = model.network.withWinogradF4()
        threadedNetwork = network.withWinogradThreads(model.workers)
    }

    /// The network for input tiles of `height × width`, threaded or not.
    private mutating func network(height: Int, width: Int, threaded: Bool = false) throws -> Sequential {
        let key = [height, width, threaded ? 1 : 0]
        if let cached = resized[key] { return cached }
        let tile = try (threaded ? threadedNetwork : network).resized(toInput: [height, width, networkChannels])
        resized[key] = tile
        return tile
    }

    /// The engine, rebuilt (larger) when a tile exceeds the one it was sized
    /// for, or when the pass changes between one threaded tile and tiles.
    private mutating func engine(covering shape: [Int], threaded: Bool) throws -> DataParallelEngine {
        if let engine, engine.threaded == threaded, engine.shape[0] >= shape[0], engine.shape[1] >= shape[1] { return engine.engine }
        let kept = engine?.threaded == threaded ? engine?.shape : nil
        let size = [max(shape[0], kept?[0] ?? 0), max(shape[1], kept?[1] ?? 0)]
        let workers = threaded ? 1 : model.workers
        let built = DataParallelEngine(network: try network(height: size[0], width: size[1], threaded: threaded),
                                       batchCapacity: workers, workers: workers, forInference: true)
        engine = (built, size, threaded)
        return built
    }

    /// How ``denoise(_:height:width:rows:into:)`` cuts `rows` rows of an
    /// image `width` wide: the output spans of its tiles' rows and columns
    /// (relative to the band), and whether it is one tile whose pass runs on
    /// every worker (``threadedNetwork``).
    func tilePlan(rows: Int, width: Int) -> (rowSpans: [Range<Int>], columnSpans: [Range<Int>], threaded: Bool) {
        let ta = tileAlignment
        let bandSide = min(side, Self.bandRows(width: width, channels: channels, alignment: ta))
        var (rowSpans, columnSpans) = (Self.spans(rows, side: bandSide, alignment: ta), Self.spans(width, side: side, alignment: ta))
        // One tile (a small image or band): its one pass runs on every worker, no halo computed twice.
        if rowSpans.count * columnSpans.count == 1, model.workers > 1 { return (rowSpans, columnSpans, true) }
        // Fewer tiles than workers otherwise: the longer side cut into more spans, so that
        // every worker has a tile (any cut gives the same bits: the halo makes every tile exact).
        if rowSpans.count * columnSpans.count < model.workers {
            if rows >= width {
                let wanted = (model.workers + columnSpans.count - 1) / columnSpans.count
                rowSpans = TilePlan.haloSpans(length: rows, side: (rows + wanted - 1) / wanted, alignment: ta)
            } else {
                let wanted = (model.workers + rowSpans.count - 1) / rowSpans.count
                columnSpans = TilePlan.haloSpans(length: width, side: (width + wanted - 1) / wanted, alignment: ta)
            }
        }
        return (rowSpans, columnSpans, false)
    }

    /// One output tile: where it writes and where its input comes from.
    private struct Tile {
        var outputRows: Range<Int>, outputColumns: Range<Int>
        var inputRows: Range<Int>, inputColumns: Range<Int>
    }

    /// Denoises rows `rows` of the `height × width` image at `input`
    /// (channels interleaved, values in [0, 1]) as if it were the whole
    /// image, writing `rows.count × width × channels` values to `output`.
    /// `rows` (starting at a multiple of ``tileAlignment``) is cut into tiles
    /// by ``spans(_:alignment:)`` of its own length.
    /// An image whose sides are not multiples of ``alignment`` is run as if
    /// its last row and column were repeated up to the next multiple.
    mutating func denoise(_ input: UnsafePointer<Float>, height: Int, width: Int, rows: Range<Int>,
                          into output: UnsafeMutablePointer<Float>) throws {
        let (c, nc, a) = (channels, networkChannels, alignment)
        let paddedHeight = (height + a - 1) / a * a, paddedWidth = (width + a - 1) / a * a
        var groups: [[Int]: [Tile]] = [:]
        let (rowSpans, columnSpans, threaded) = tilePlan(rows: rows.count, width: width)
        for rowSpan in rowSpans {
            for outColumns in columnSpans {
                let outRows = (rows.lowerBound + rowSpan.lowerBound)..<(rows.lowerBound + rowSpan.upperBound)
                let alignedEnd = { (end: Int, padded: Int) in min(padded, (end + a - 1) / a * a) }
                let tile = Tile(outputRows: outRows, outputColumns: outColumns,
                                inputRows: max(0, outRows.lowerBound - radius)..<min(paddedHeight, alignedEnd(outRows.upperBound, paddedHeight) + radius),
                                inputColumns: max(0, outColumns.lowerBound - radius)..<min(paddedWidth, alignedEnd(outColumns.upperBound, paddedWidth) + radius))
                groups[[tile.inputRows.count, tile.inputColumns.count], default: []].append(tile)
            }
        }
        let largest = groups.keys.reduce([0, 0]) { [max($0[0], $1[0]), max($0[1], $1[1])] }
        // The largest input tile of the whole image: a span of at most tileSide, its end rounded up to a
        // multiple of a, plus the halo (a multiple of a, as every tile's sides are).
        let widestTile = (max(side, Self.tileSide) + a - 1) / a * a + 2 * radius
        let imageRows = ((imageHeight ?? height) + a - 1) / a * a
        let engine = try engine(covering: [max(largest[0], min(widestTile, imageRows)), max(largest[1], min(widestTile, paddedWidth))],
                                threaded: threaded)
        let level = noiseLevel
        // The network resized to every tile shape before the workers start (kernels stay as transformed once).
        var built: [[Int]: Sequential] = [:]
        for shape in groups.keys { built[shape] = try network(height: shape[0], width: shape[1], threaded: threaded) }
        let networks = built
        // All tiles of the call as one queue, the largest first: each worker takes the next
        // (any shape), so none waits while another finishes a group. A tile runs alone
        // (batch 1), as before, so its result does not depend on which worker took it.
        let tiles = groups.sorted { $0.key.lexicographicallyPrecedes($1.key) }.flatMap(\.value)
        let order = tiles.indices.sorted {
            let (a, b) = (tiles[$0], tiles[$1])
            let (pa, pb) = (a.inputRows.count * a.inputColumns.count, b.inputRows.count * b.inputColumns.count)
            return pa != pb ? pa > pb : $0 < $1
        }
        let largestTile = largest[0] * largest[1] * nc
        // Each worker's network input (the tile with the noise-level channel).
        var inputs = [Float](repeating: 0, count: engine.workers * largestTile)
        inputs.withUnsafeMutableBufferPointer { inputs in
            let inputs = inputs.baseAddress!
            engine.forEachJob(order.count) { job, worker, workspace in
                let tile = tiles[order[job]]
                let network = networks[[tile.inputRows.count, tile.inputColumns.count]]!
                var to = inputs + worker * largestTile
                let tileInput = UnsafePointer(to)
                for row in tile.inputRows {
                    let from = input + min(row, height - 1) * width * c
                    if nc == c {  // no map: the image's part of the row in one copy, then the repeated edge
                        let inside = tile.inputColumns.clamped(to: 0..<width)
                        to.update(from: from + inside.lowerBound * c, count: inside.count * c)
                        to += inside.count * c
                        for _ in inside.upperBound..<tile.inputColumns.upperBound {
                            to.update(from: from + (width - 1) * c, count: c)
                            to += c
                        }
                        continue
                    }
                    for column in tile.inputColumns {
                        let pixel = from + min(column, width - 1) * c
                        for ch in 0..<c { to[ch] = pixel[ch] }
                        to[c] = level
                        to += nc
                    }
                }
                let prediction = network.forward(tileInput, batch: 1, workspace: workspace)
                // output = clip(input − predicted noise, 0, 1), the tile's own pixels only.
                for row in tile.outputRows {
                    let tilePixel = (row - tile.inputRows.lowerBound) * tile.inputColumns.count
                        + tile.outputColumns.lowerBound - tile.inputColumns.lowerBound
                    let out = output + ((row - rows.lowerBound) * width + tile.outputColumns.lowerBound) * c
                    let source = input + (row * width + tile.outputColumns.lowerBound) * c
                    for i in 0..<(tile.outputColumns.count * c) {
                        out[i] = min(max(source[i] - prediction[tilePixel * c + i], 0), 1)
                    }
                }
            }
        }
    }
}

extension DenoisingAutoencoder {
    /// Denoises a batch `[n, h, w, channels]` of any size with a residual
    /// model, each image with its own noise level (a model without a
    /// noise-level map ignores them).
    func residualDenoise(_ batch: Tensor, noiseLevels: [Float]) throws -> Tensor {
        let (n, height, width, channels) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        var inference = ResidualInference(model: self)
        var output = Tensor(zeros: batch.shape)
        let imageSize = height * width * channels
        try batch.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                for image in 0..<n {
                    inference.noiseLevel = noiseLevels[image]
                    try inference.denoise(x.baseAddress! + image * imageSize, height: height, width: width, rows: 0..<height,
                                          into: y.baseAddress! + image * imageSize)
                }
            }
        }
        return output
    }
}
