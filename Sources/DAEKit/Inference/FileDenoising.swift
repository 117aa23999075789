import DAEImageIO
import DAELayers
import Foundation

/// What ``DenoisingAutoencoder/denoiseImageFile(_:to:overlap:)`` did.
public struct FileDenoisingReport: Sendable, Equatable {
    /// The image's size and the channels it was denoised in.
    public var width: Int, height: Int, channels: Int
    /// How: `"bands of N rows"` (a residual model), `"whole"` or `"N tiles of h×w"` (an autoencoder).
    public var method: String
    /// The noise std (in [0, 1] units) a model with a noise-level map was
    /// told: the one asked for, or the estimate; nil for other models.
    public var noiseLevel: Float? = nil
    /// Bits per sample of the input file (16 for a 16-bit PNG); the output
    /// PNG has 8, so a 16-bit input loses its low byte.
    public var inputBitDepth: Int = 8
}

extension DenoisingAutoencoder {
    /// The most tiles ``denoiseImageFile(_:to:overlap:)`` runs for one image
    /// with an autoencoder (2²⁴): past it, a smaller overlap is asked for.
    public static let maximumTileCount = 1 << 24

    /// The widest row ``denoiseImageFile(_:to:overlap:)`` streams, in samples
    /// (width × channels, 2²⁰): its buffers of a band of rows stay under about
    /// 600 MB. The file's header is checked against it before any pixel is allocated.
    public static let maximumStreamRowSamples = 1 << 20

    /// The most pixels ``denoiseImageFile(_:to:overlap:)`` accepts in one image (2³²).
    public static let maximumStreamPixels = 1 << 32

    /// Denoises the PNG or JPEG at `input` and writes an 8-bit PNG at
    /// `output`, streaming: rows are read, denoised and written band by
    /// band, so memory depends on the image's width and the model, not on
    /// its height. The image is converted to the model's channels first
    /// (see `ImageReader`); the PNG appears at `output` only when complete.
    ///
    /// - A ``Configuration/Architecture/residual`` model runs on bands of
    ///   rows, each read with a halo of the model's receptive radius and cut
    ///   into the same tiles as ``denoise(_:)`` cuts the whole image, so the
    ///   result is bit for bit that of denoising the whole image in memory.
    /// - An autoencoder runs on overlapping tiles of its input size, blended
    ///   with smooth weights (as `TilePlan` describes), one row of tiles at a
    ///   time; `overlap` is the least overlap between neighbouring tiles
    ///   (default: half a tile). An image smaller than a tile is padded by
    ///   repeating its last row and column.
    ///
    /// - Throws: the reader's and writer's errors, `DAEError/invalidArgument(_:)`
    ///   for a bad overlap or too many tiles, and `DAEError/invalidValue(_:reason:)`
    ///   when the model's output is not finite (its weights are broken); no
    ///   file is left at `output` then.
    @discardableResult
    public func denoiseImageFile(_ input: URL, to output: URL, overlap: Int? = nil) throws -> FileDenoisingReport {
        try denoiseImageFile(input, to: output, overlap: overlap, noiseLevel: nil)
    }

    /// Denoises an image file as ``denoiseImageFile(_:to:overlap:)`` does,
    /// telling a model with a noise-level map the noise std `noiseLevel`
    /// (in [0, 1] units). Nil estimates it first, in a pass over the file
    /// (``NoiseLevelEstimator``); the report gives the level used.
    ///
    /// `progress` is called with the fraction of rows written so far (0 to
    /// 1) after each band of a residual model, for a progress display.
    @discardableResult
    public func denoiseImageFile(_ input: URL, to output: URL, overlap: Int? = nil, noiseLevel: Float?,
                                 progress: (@Sendable (Double) -> Void)? = nil) throws -> FileDenoisingReport {
        if let noiseLevel, !(0...1).contains(noiseLevel) {
            throw DAEError.invalidArgument("noise level \(noiseLevel) must be in [0, 1] (σ/255 for 8-bit images)")
        }
        let reader = try ImageReader(contentsOf: input)
        let channels = configuration.inputShape[2]
        guard channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("the model takes \(channels)-channel images; image files are read as 1 (gray) or 3 (RGB)")
        }
        let (pixels, pixelsOverflow) = reader.width.multipliedReportingOverflow(by: reader.height)
        guard reader.width * channels <= Self.maximumStreamRowSamples, !pixelsOverflow, pixels <= Self.maximumStreamPixels else {
            throw DAEError.corruptFile(path: input.path, reason: "an image of \(reader.width)x\(reader.height) pixels is larger than "
                + "this tool streams (rows of at most \(Self.maximumStreamRowSamples / channels) pixels, \(Self.maximumStreamPixels) pixels in all)")
        }
        let rows = RowWindow(reader: reader, channels: channels)
        if configuration.tilingStrategy == .haloTiles {
            var level: Float?
            if configuration.noiseMap { level = try noiseLevel ?? Self.estimateNoiseLevel(ofImageFile: input, channels: channels) }
            // A gray file denoised by a colour photo model comes back gray: the mean of the three
            // channels, which the model saw equal (the file's gray repeated).
            let writer = try PNGRowWriter(url: output, width: reader.width, height: reader.height,
                                          channels: reader.channels == 1 ? 1 : channels)
            try denoiseInBands(rows, noiseLevel: level ?? 0, writer: writer, progress: progress)
            try writer.finish()
            return FileDenoisingReport(width: reader.width, height: reader.height, channels: channels,
                                       method: "bands of up to \(ResidualInference.tileSide) rows", noiseLevel: level,
                                       inputBitDepth: reader.sourceBitDepth)
        }
        let (tileHeight, tileWidth) = (configuration.inputShape[0], configuration.inputShape[1])
        let overlap = overlap ?? min(tileHeight, tileWidth) / 2
        guard overlap >= 0, overlap < min(tileHeight, tileWidth) else {
            throw DAEError.invalidArgument("overlap \(overlap) must be in 0..<\(min(tileHeight, tileWidth)) for the model's \(tileHeight)x\(tileWidth) tiles")
        }
        let plan = try TilePlan(imageHeight: reader.height, imageWidth: reader.width, tileHeight: tileHeight,
                                tileWidth: tileWidth, minimumOverlap: overlap)
        let (tiles, overflow) = plan.rowOrigins.count.multipliedReportingOverflow(by: plan.columnOrigins.count)
        guard !overflow, tiles <= Self.maximumTileCount else {
            throw DAEError.invalidArgument("a \(reader.width)x\(reader.height) image with overlap \(overlap) needs "
                + "\(overflow ? "too many" : String(tiles)) tiles of \(tileHeight)x\(tileWidth), more than \(Self.maximumTileCount): use a smaller overlap")
        }
        let writer = try PNGRowWriter(url: output, width: reader.width, height: reader.height, channels: channels)
        try denoiseInTileRows(rows, plan: plan, writer: writer)
        try writer.finish()
        let whole = tiles == 1 && reader.height == tileHeight && reader.width == tileWidth
        return FileDenoisingReport(width: reader.width, height: reader.height, channels: channels,
                                   method: whole ? "whole" : "\(tiles) tiles of \(tileHeight)x\(tileWidth)",
                                   inputBitDepth: reader.sourceBitDepth)
    }

    /// Residual model: output bands of at most ``ResidualInference/tileSide``
    /// rows, each computed from its rows plus the receptive radius above and below.
    private func denoiseInBands(_ rows: RowWindow, noiseLevel: Float, writer: PNGRowWriter,
                                progress: (@Sendable (Double) -> Void)?) throws {
        var inference = ResidualInference(model: self)
        inference.noiseLevel = noiseLevel
        let band = ResidualInference.tileSide, radius = inference.radius
        let (height, width, channels) = (rows.height, rows.width, rows.channels)
        var output = [Float](repeating: 0, count: band * width * channels)
        var bytes = [UInt8](repeating: 0, count: band * width * channels)
        // The same cut of the rows as an in-memory pass: the same tiles, the same bits.
        for span in ResidualInference.spans(height, alignment: inference.tileAlignment) {
            let (top, bottom) = (span.lowerBound, span.upperBound)
            let needed = max(0, top - radius)..<min(height, bottom + radius)
            try rows.load(needed)
            try rows.withRows { window, first, count in
                try output.withUnsafeMutableBufferPointer { out in
                    try inference.denoise(window, height: count, width: width, rows: (top - first)..<(bottom - first),
                                          into: out.baseAddress!)
                }
            }
            try writeRows(output, count: bottom - top, bytes: &bytes, writer: writer)
            progress?(Double(bottom) / Double(max(height, 1)))
        }
    }

    /// Autoencoder: one row of tiles at a time (cut by the plan from the rows
    /// held), blended by the plan's ``TilePlan/Blender``; rows above the next
    /// row of tiles are final and written. The same cut and sums as
    /// `plan.apply(to:)` on the whole image in memory: the same bits.
    private func denoiseInTileRows(_ rows: RowWindow, plan: TilePlan, writer: PNGRowWriter) throws {
        let (height, width, channels) = (rows.height, rows.width, rows.channels)
        let (tileHeight, tileWidth, columns) = (plan.tileHeight, plan.tileWidth, plan.columnOrigins.count)
        var blender = TilePlan.Blender(plan: plan, channels: channels, pendingRows: 2 * tileHeight)
        var output = [Float](repeating: 0, count: 2 * tileHeight * width * channels)
        var bytes = [UInt8](repeating: 0, count: 2 * tileHeight * width * channels)
        var tiles = Tensor(zeros: [columns, tileHeight, tileWidth, channels])
        func finishRows(upTo end: Int) throws {
            let count = end - blender.finished
            guard count > 0 else { return }
            output.withUnsafeMutableBufferPointer { blender.finish(upTo: end, into: $0.baseAddress!) }
            try writeRows(output, count: count, bytes: &bytes, writer: writer)
        }
        for (tileRow, top) in plan.rowOrigins.enumerated() {
            try finishRows(upTo: top)
            try rows.load(top..<min(top + tileHeight, height))
            rows.withRows { window, first, _ in
                tiles.withUnsafeMutableBufferPointer { plan.cutRow(tileRow, from: window, firstRow: first, channels: channels, into: $0.baseAddress!) }
            }
            let denoised = try denoise(tiles)
            denoised.withUnsafeBufferPointer { blender.add(tileRow: tileRow, tiles: $0.baseAddress!) }
        }
        try finishRows(upTo: height)
    }

    /// The noise std of the image file at `url` read as `channels`-channel
    /// rows, estimated in one streaming pass (``NoiseLevelEstimator``).
    static func estimateNoiseLevel(ofImageFile url: URL, channels: Int) throws -> Float {
        let reader = try ImageReader(contentsOf: url)
        var estimator = NoiseLevelEstimator()
        let chunk = 64, rowSize = reader.width * channels
        var bytes = [UInt8](repeating: 0, count: chunk * rowSize)
        var values = [Float](repeating: 0, count: chunk * rowSize)
        while reader.rowsRead < reader.height {
            let count = min(chunk, reader.height - reader.rowsRead)
            try reader.readRows(count, channels: channels, into: &bytes)
            for i in 0..<(count * rowSize) { values[i] = Float(bytes[i]) / 255 }
            values.withUnsafeBufferPointer { estimator.add(rows: $0.baseAddress!, rowCount: count, width: reader.width, channels: channels) }
        }
        return estimator.estimate ?? 0
    }

    /// Writes `count` rows of `values` (the model's channels) as bytes, after
    /// checking they are finite; a gray writer of a colour model's values
    /// gets the mean of each pixel's three channels.
    private func writeRows(_ values: [Float], count: Int, bytes: inout [UInt8], writer: PNGRowWriter) throws {
        let source = configuration.inputShape[2], pixels = count * writer.width
        for i in 0..<(pixels * source) where !values[i].isFinite {
            throw DAEError.invalidValue("denoised image", reason: "the model's output is not finite (\(values[i])): its weights are broken")
        }
        if writer.channels == source {
            for i in 0..<(pixels * source) { bytes[i] = Image.byte(from: values[i]) }
        } else {
            for p in 0..<pixels {
                var sum: Float = 0
                for c in 0..<source { sum += values[p * source + c] }
                bytes[p] = Image.byte(from: sum / Float(source))
            }
        }
        try bytes.withUnsafeBufferPointer { try writer.write(rows: $0, count: count) }
    }
}

/// A window of consecutive rows of an image being read top to bottom, as floats in [0, 1].
final class RowWindow {
    let reader: ImageReader
    let width: Int, height: Int, channels: Int
    /// The first row held, and the rows held (`first ..< first + count`).
    private(set) var first = 0, count = 0
    private var values: [Float] = []
    private var bytes: [UInt8] = []
    private static let unit: [Float] = (0...255).map { Float($0) / 255 }

    init(reader: ImageReader, channels: Int) {
        self.reader = reader
        width = reader.width
        height = reader.height
        self.channels = channels
    }

    /// Makes the window hold exactly `rows` (which must not start above the
    /// window's first row nor end above its last), reading what is missing.
    func load(_ rows: Range<Int>) throws {
        let rowSize = width * channels
        precondition(rows.lowerBound >= first && rows.upperBound >= first + count, "rows are read top to bottom")
        // Drop the rows above; rows between the window's end and the new first are read and skipped.
        let drop = min(rows.lowerBound - first, count)
        if drop > 0 {
            values.withUnsafeMutableBufferPointer { v in
                v.baseAddress!.update(from: v.baseAddress! + drop * rowSize, count: (count - drop) * rowSize)
            }
            count -= drop
        }
        if values.count < rows.count * rowSize { values += [Float](repeating: 0, count: rows.count * rowSize - values.count) }
        while reader.rowsRead < rows.lowerBound {
            let skip = min(rows.lowerBound - reader.rowsRead, max(rows.count, 1))
            if bytes.count < skip * rowSize { bytes = [UInt8](repeating: 0, count: skip * rowSize) }
            try reader.readRows(skip, channels: channels, into: &bytes)
        }
        first = rows.lowerBound
        let missing = rows.upperBound - reader.rowsRead
        if missing > 0 {
            if bytes.count < missing * rowSize { bytes = [UInt8](repeating: 0, count: missing * rowSize) }
            try reader.readRows(missing, channels: channels, into: &bytes)
            Self.unit.withUnsafeBufferPointer { unit in
                for i in 0..<(missing * rowSize) { values[count * rowSize + i] = unit[Int(bytes[i])] }
            }
            count += missing
        }
    }

    /// Gives `body` the held rows: their values, the first row's index and their count.
    func withRows<R>(_ body: (UnsafePointer<Float>, Int, Int) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { try body($0.baseAddress!, first, count) }
    }
}
