import DAELayers
import Foundation

/// Exact inference of a residual (fully convolutional) model on images of
/// any size, in memory bounded by the tile size.
///
/// The output is cut into tiles of ``tileSide``² pixels. Each tile's input
/// is the tile grown by the model's receptive radius `R` on every side
/// (clipped at the image's edges), so every output pixel sees exactly the
/// pixels, and the zero padding at the image's edges, that a pass over the
/// whole image would give it: tiled output equals whole-image output, up
/// to the order in which OpenBLAS sums (which can change with a product's
/// size; measured differences stay below 10⁻⁵). Tiles of one input shape run together across the workers, each
/// worker with an inference-only workspace (one shared patch matrix) sized
/// for the largest tile.
///
/// Cost: about `(side + 2R)² / side²` of a whole-image pass for tiles of
/// `side` (1.23× for the photo preset's R = 7 at 128-pixel tiles).
struct ResidualInference {
    /// The largest side of an output tile.
    static let tileSide = 128

    /// `0..<length` cut into the fewest near-equal spans of at most
    /// ``tileSide``: tiles stay large (no thin remainder, whose small GEMMs
    /// OpenBLAS may round differently), and the cut depends only on `length`.
    static func spans(_ length: Int) -> [Range<Int>] {
        let count = max(1, (length + tileSide - 1) / tileSide)
        return (0..<count).map { (($0 * length) / count)..<((($0 + 1) * length) / count) }
    }

    let model: DenoisingAutoencoder
    let radius: Int
    let channels: Int
    /// The networks for each tile shape met so far (layer structs sharing the model's weights: cheap).
    private var networks: [[Int]: Sequential] = [:]
    /// One engine, sized for the largest tile met so far: a workspace sized
    /// for an image serves every smaller image of the same network (each
    /// layer's buffers only shrink), so tiles of every shape share it.
    private var engine: (engine: DataParallelEngine, shape: [Int])?

    init(model: DenoisingAutoencoder) {
        self.model = model
        radius = model.configuration.receptiveRadius
        channels = model.configuration.inputShape[2]
    }

    /// The network for input tiles of `height × width`, built once.
    private mutating func network(height: Int, width: Int) throws -> Sequential {
        if let cached = networks[[height, width]] { return cached }
        let network = try model.residualNetwork(height: height, width: width)
        networks[[height, width]] = network
        return network
    }

    /// The engine, rebuilt (larger) when a tile exceeds the one it was sized for.
    private mutating func engine(covering shape: [Int]) throws -> DataParallelEngine {
        if let engine, engine.shape[0] >= shape[0], engine.shape[1] >= shape[1] { return engine.engine }
        let size = [max(shape[0], engine?.shape[0] ?? 0), max(shape[1], engine?.shape[1] ?? 0)]
        let built = DataParallelEngine(network: try network(height: size[0], width: size[1]), batchCapacity: model.workers,
                                       workers: model.workers, forInference: true)
        engine = (built, size)
        return built
    }

    /// One output tile: where it writes and where its input comes from.
    private struct Tile {
        var outputRows: Range<Int>, outputColumns: Range<Int>
        var inputRows: Range<Int>, inputColumns: Range<Int>
    }

    /// Denoises rows `rows` of the `height × width` image at `input`
    /// (channels interleaved, values in [0, 1]) as if it were the whole
    /// image, writing `rows.count × width × channels` values to `output`.
    /// `rows` is cut into tiles by ``spans(_:)`` of its own length.
    mutating func denoise(_ input: UnsafePointer<Float>, height: Int, width: Int, rows: Range<Int>,
                          into output: UnsafeMutablePointer<Float>) throws {
        let c = channels
        var groups: [[Int]: [Tile]] = [:]
        for rowSpan in Self.spans(rows.count) {
            for outColumns in Self.spans(width) {
                let outRows = (rows.lowerBound + rowSpan.lowerBound)..<(rows.lowerBound + rowSpan.upperBound)
                let tile = Tile(outputRows: outRows, outputColumns: outColumns,
                                inputRows: max(0, outRows.lowerBound - radius)..<min(height, outRows.upperBound + radius),
                                inputColumns: max(0, outColumns.lowerBound - radius)..<min(width, outColumns.upperBound + radius))
                groups[[tile.inputRows.count, tile.inputColumns.count], default: []].append(tile)
            }
        }
        let largest = groups.keys.reduce([0, 0]) { [max($0[0], $1[0]), max($0[1], $1[1])] }
        let engine = try engine(covering: largest)
        for (shape, tiles) in groups.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let network = try network(height: shape[0], width: shape[1])
            let tileCount = shape[0] * shape[1] * c
            let chunk = engine.batchCapacity
            var batch = [Float](repeating: 0, count: chunk * tileCount)
            var prediction = [Float](repeating: 0, count: chunk * tileCount)
            for start in stride(from: 0, to: tiles.count, by: chunk) {
                let part = tiles[start..<min(start + chunk, tiles.count)]
                batch.withUnsafeMutableBufferPointer { b in
                    for (k, tile) in part.enumerated() {
                        var to = b.baseAddress! + k * tileCount
                        for row in tile.inputRows {
                            let from = input + (row * width + tile.inputColumns.lowerBound) * c
                            to.update(from: from, count: tile.inputColumns.count * c)
                            to += tile.inputColumns.count * c
                        }
                    }
                }
                batch.withUnsafeBufferPointer { b in
                    prediction.withUnsafeMutableBufferPointer { p in
                        engine.predict(network: network, input: b.baseAddress!, batch: part.count, output: p.baseAddress!)
                    }
                }
                // output = clip(input − predicted noise, 0, 1), the tile's own pixels only.
                for (k, tile) in part.enumerated() {
                    let base = k * tileCount
                    for row in tile.outputRows {
                        let tileRow = row - tile.inputRows.lowerBound
                        let offset = base + (tileRow * tile.inputColumns.count + tile.outputColumns.lowerBound - tile.inputColumns.lowerBound) * c
                        let out = output + ((row - rows.lowerBound) * width + tile.outputColumns.lowerBound) * c
                        for i in 0..<(tile.outputColumns.count * c) {
                            out[i] = min(max(batch[offset + i] - prediction[offset + i], 0), 1)
                        }
                    }
                }
            }
        }
    }
}

extension DenoisingAutoencoder {
    /// The residual network with this model's weights for inputs of `height × width`.
    func residualNetwork(height: Int, width: Int) throws -> Sequential {
        let layers: [any Layer] = try network.layers.map { layer in
            guard let conv = layer as? Conv2D else {
                throw DAEError.invalidConfiguration("\(layer.name) is not a convolution: the model is not fully convolutional")
            }
            return try Conv2D(name: conv.name, inputShape: [height, width, conv.inputShape[2]], kernel: conv.kernel,
                              bias: conv.bias, stride: 1, padding: .same, activation: conv.activation)
        }
        return try Sequential(layers)
    }

    /// Denoises a batch `[n, h, w, channels]` of any size with a residual model.
    func residualDenoise(_ batch: Tensor) throws -> Tensor {
        let (n, height, width, channels) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        var inference = ResidualInference(model: self)
        var output = Tensor(zeros: batch.shape)
        let imageSize = height * width * channels
        try batch.withUnsafeBufferPointer { x in
            try output.withUnsafeMutableBufferPointer { y in
                for image in 0..<n {
                    try inference.denoise(x.baseAddress! + image * imageSize, height: height, width: width, rows: 0..<height,
                                          into: y.baseAddress! + image * imageSize)
                }
            }
        }
        return output
    }
}
