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
    /// Bits per sample of the input file (16 for a 16-bit PNG, 8 for JPEG).
    public var inputBitDepth: Int = 8
    /// Bits per sample of the output PNG: 16 for a 16-bit input (whose
    /// samples were read at full precision), else 8.
    public var outputBitDepth: Int = 8
    /// True when a colour file held a gray picture under noise and its
    /// channels' mean was denoised by the gray model (``BuiltInPhotoDenoiser``);
    /// ``channels`` is then 1, ``noiseLevel`` the mean's, and the output PNG RGB.
    public var grayContent: Bool = false
}

extension DenoisingAutoencoder {
    /// The most tiles ``denoiseImageFile(_:to:overlap:)`` runs for one image
    /// with an autoencoder (2²⁴): past it, a smaller overlap is asked for.
    public static let maximumTileCount = 1 << 24

    /// The widest row ``denoiseImageFile(_:to:overlap:)`` streams, in samples
    /// (width × channels, 2²⁰). A residual model's bands are fewer rows the
    /// wider the image (at most 12 × 2²⁰ samples, at least 16 rows), so its
    /// buffers stay under about 700 MB even there. The file's header is checked against it before any pixel is allocated.
    public static let maximumStreamRowSamples = 1 << 20

    /// The most pixels ``denoiseImageFile(_:to:overlap:)`` accepts in one image (2³²).
    public static let maximumStreamPixels = 1 << 32

    /// Denoises the PNG or JPEG at `input` and writes a PNG at `output`,
    /// streaming: rows are read, denoised and written band by band, so
    /// memory depends on the image's width and the model, not on its
    /// height. The image is converted to the model's channels first and
    /// shown the right way up (its EXIF orientation; see `ImageReader`); a
    /// 16-bit input gives a 16-bit PNG, any other an 8-bit one. The PNG
    /// appears at `output` only when complete. A file that cannot be read
    /// row by row within `ImageReader.Limits` (an interlaced PNG or a turned
    /// JPEG decoded whole, a progressive JPEG's coefficients) is refused from
    /// its header, with the reason.
    ///
    /// - A ``Configuration/Architecture/residual`` model runs on bands of
    ///   rows, each read with a halo of the model's exactness radius (wider
    ///   than its receptive radius: `ResidualInference`) and cut
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
        try denoiseImageFile(at: FileSystemPath(input), to: output, overlap: overlap, noiseLevel: noiseLevel, progress: progress)
    }

    /// Denoises the image file at `input`, a path whose name need not be
    /// UTF-8 (see `FileSystemPath`), as ``denoiseImageFile(_:to:overlap:noiseLevel:progress:)`` does.
    @discardableResult
    public func denoiseImageFile(at input: FileSystemPath, to output: URL, overlap: Int? = nil, noiseLevel: Float?,
                                 progress: (@Sendable (Double) -> Void)? = nil) throws -> FileDenoisingReport {
        try denoiseImageFile(at: input, to: output, overlap: overlap, noiseLevel: noiseLevel, meanOfRGB: false, progress: progress)
    }

    /// The file denoiser; with `meanOfRGB` (a gray model, a colour file: ``BuiltInPhotoDenoiser``'s
    /// gray pictures in RGB), the model sees each pixel's mean of R, G and B and the output PNG is RGB,
    /// the gray repeated.
    func denoiseImageFile(at input: FileSystemPath, to output: URL, overlap: Int?, noiseLevel: Float?, meanOfRGB: Bool,
                          progress: (@Sendable (Double) -> Void)?) throws -> FileDenoisingReport {
        if let noiseLevel, !(0...1).contains(noiseLevel) {
            throw DAEError.invalidArgument("noise level \(noiseLevel) must be in [0, 1] (σ/255 for 8-bit images)")
        }
        let reader = try ImageReader(at: input)
        let channels = configuration.inputShape[2]
        guard channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("the model takes \(channels)-channel images; image files are read as 1 (gray) or 3 (RGB)")
        }
        precondition(!meanOfRGB || noiseLevel != nil, "the mean of R, G and B is denoised at a level its caller estimated")
        guard !meanOfRGB || (channels == 1 && configuration.tilingStrategy == .haloTiles) else {
            throw DAEError.invalidArgument("the mean of R, G and B goes to a gray residual model, not a \(channels)-channel one")
        }
        try Self.checkStreamable(reader, channels: meanOfRGB ? 3 : channels, path: input)
        let rows = RowWindow(reader: reader, channels: channels, meanOfRGB: meanOfRGB)
        let bitDepth = reader.sourceBitDepth > 8 ? 16 : 8
        if configuration.tilingStrategy == .haloTiles {
            var level: Float?
            if configuration.noiseMap { level = try noiseLevel ?? Self.estimateNoiseLevel(ofImageFile: input, channels: channels) }
            // A gray file denoised by a colour photo model comes back gray: the mean of the three
            // channels, which the model saw equal (the file's gray repeated). A gray picture in RGB goes back to RGB.
            let writer = try PNGRowWriter(url: output, width: reader.width, height: reader.height,
                                          channels: meanOfRGB ? 3 : reader.channels == 1 ? 1 : channels, bitDepth: bitDepth)
            let band = try denoiseInBands(rows, noiseLevel: level ?? 0, writer: writer, progress: progress)
            try writer.finish()
            return FileDenoisingReport(width: reader.width, height: reader.height, channels: channels,
                                       method: "bands of up to \(band) rows", noiseLevel: level,
                                       inputBitDepth: reader.sourceBitDepth, outputBitDepth: bitDepth)
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
        let writer = try PNGRowWriter(url: output, width: reader.width, height: reader.height, channels: channels,
                                      bitDepth: bitDepth)
        try denoiseInTileRows(rows, plan: plan, writer: writer)
        try writer.finish()
        let whole = tiles == 1 && reader.height == tileHeight && reader.width == tileWidth
        return FileDenoisingReport(width: reader.width, height: reader.height, channels: channels,
                                   method: whole ? "whole" : "\(tiles) tiles of \(tileHeight)x\(tileWidth)",
                                   inputBitDepth: reader.sourceBitDepth, outputBitDepth: bitDepth)
    }

    /// Residual model: output bands of at most ``ResidualInference/tileSide``
    /// rows (fewer for a wide image: ``ResidualInference/bandRows(width:channels:alignment:)``),
    /// each computed from its rows plus the halo (``ResidualInference/radius``)
    /// above and below. Returns the band's rows.
    private func denoiseInBands(_ rows: RowWindow, noiseLevel: Float, writer: PNGRowWriter,
                                progress: (@Sendable (Double) -> Void)?) throws -> Int {
        var inference = ResidualInference(model: self)
        inference.noiseLevel = noiseLevel
        let (height, width, channels) = (rows.height, rows.width, rows.channels)
        let band = ResidualInference.bandRows(width: width, channels: inference.channels, alignment: inference.tileAlignment)
        let radius = inference.radius
        inference.imageHeight = height
        var output = [Float](repeating: 0, count: band * width * channels)
        var samples = OutputSamples(count: band * width * max(channels, writer.channels), bitDepth: writer.bitDepth)
        // The same cut of the rows as an in-memory pass: the same tiles, the same bits.
        for span in ResidualInference.spans(height, side: band, alignment: inference.tileAlignment) {
            let (top, bottom) = (span.lowerBound, span.upperBound)
            let needed = max(0, top - radius)..<min(height, bottom + radius)
            try rows.load(needed)
            try rows.withRows { window, first, count in
                try output.withUnsafeMutableBufferPointer { out in
                    try inference.denoise(window, height: count, width: width, rows: (top - first)..<(bottom - first),
                                          into: out.baseAddress!)
                }
            }
            try writeRows(output, count: bottom - top, samples: &samples, writer: writer)
            progress?(Double(bottom) / Double(max(height, 1)))
        }
        return band
    }

    /// Autoencoder: one row of tiles at a time, cut by the plan from the rows
    /// held and blended by the plan's ``TilePlan/Blender``; rows above the
    /// next row of tiles are final and written. The same cut and sums as
    /// `plan.apply(to:)` on the whole image in memory: the same bits.
    /// Memory: the pending rows (at most one tile height, as sums and
    /// weights) and a group of ``tileGroup`` tiles, whatever the width.
    private func denoiseInTileRows(_ rows: RowWindow, plan: TilePlan, writer: PNGRowWriter) throws {
        let (height, width, channels) = (rows.height, rows.width, rows.channels)
        let (tileHeight, tileWidth, columns) = (plan.tileHeight, plan.tileWidth, plan.columnOrigins.count)
        let pending = min(tileHeight, height)  // a row of tiles covers at most one tile height
        var blender = TilePlan.Blender(plan: plan, channels: channels, pendingRows: pending)
        var output = [Float](repeating: 0, count: pending * width * channels)
        var samples = OutputSamples(count: pending * width * channels, bitDepth: writer.bitDepth)
        func finishRows(upTo end: Int) throws {
            let count = end - blender.finished
            guard count > 0 else { return }
            output.withUnsafeMutableBufferPointer { blender.finish(upTo: end, into: $0.baseAddress!) }
            try writeRows(output, count: count, samples: &samples, writer: writer)
        }
        // Tiles go through the model a group at a time; a group is a whole number of
        // inference batches, so the model sees the same batches as for the whole row.
        let group = max(1, Self.tileGroup / max(1, inferenceBatchSize)) * max(1, inferenceBatchSize)
        var tiles = Tensor(zeros: [min(group, columns), tileHeight, tileWidth, channels])
        for (tileRow, top) in plan.rowOrigins.enumerated() {
            try finishRows(upTo: top)
            try rows.load(top..<min(top + tileHeight, height))
            for groupStart in stride(from: 0, to: columns, by: group) {
                let groupColumns = groupStart..<min(groupStart + group, columns)
                if groupColumns.count != tiles.shape[0] { tiles = Tensor(zeros: [groupColumns.count, tileHeight, tileWidth, channels]) }
                rows.withRows { window, first, _ in
                    tiles.withUnsafeMutableBufferPointer {
                        plan.cutRow(tileRow, columns: groupColumns, from: window, firstRow: first, channels: channels, into: $0.baseAddress!)
                    }
                }
                let denoised = try denoise(tiles)
                denoised.withUnsafeBufferPointer { blender.add(tileRow: tileRow, columns: groupColumns, tiles: $0.baseAddress!) }
            }
        }
        try finishRows(upTo: height)
    }

    /// The most tiles of an autoencoder run through the model at once when
    /// denoising a file (rounded down to whole inference batches): a row of
    /// tiles of a very wide image goes through in groups.
    static let tileGroup = 1024

    /// Throws unless the image of `reader` (read as `channels` channels) is
    /// within ``maximumStreamRowSamples`` and ``maximumStreamPixels``.
    static func checkStreamable(_ reader: ImageReader, channels: Int, path: FileSystemPath) throws {
        let (pixels, pixelsOverflow) = reader.width.multipliedReportingOverflow(by: reader.height)
        guard reader.width * channels <= Self.maximumStreamRowSamples, !pixelsOverflow, pixels <= Self.maximumStreamPixels else {
            throw DAEError.corruptFile(path: path.description, reason: "an image of \(reader.width)x\(reader.height) pixels is larger than "
                + "this tool streams (rows of at most \(Self.maximumStreamRowSamples / channels) pixels, \(Self.maximumStreamPixels) pixels in all)")
        }
    }

    /// The noise std of the image file at `path` read as `channels`-channel
    /// rows, estimated in one streaming pass (``NoiseLevelEstimator``).
    static func estimateNoiseLevel(ofImageFile path: FileSystemPath, channels: Int) throws -> Float {
        let reader = try ImageReader(at: path)
        var estimator = NoiseLevelEstimator()
        try forEachRowChunk(of: reader, channels: channels) { rows, count in
            estimator.add(rows: rows, rowCount: count, width: reader.width, channels: channels)
        }
        return estimator.estimate ?? 0
    }

    /// Reads the rest of `reader`'s rows as `channels` channels in chunks of
    /// 64 rows (an even count, as ``NoiseLevelEstimator`` wants), giving
    /// `body` each chunk's values and row count: the one pass a noise
    /// estimate or a gray-picture test makes over a file.
    static func forEachRowChunk(of reader: ImageReader, channels: Int,
                                _ body: (UnsafePointer<Float>, Int) throws -> Void) throws {
        let chunk = 64
        var values = [Float](repeating: 0, count: chunk * reader.width * channels)
        while reader.rowsRead < reader.height {
            let count = min(chunk, reader.height - reader.rowsRead)
            try reader.readRows(count, channels: channels, into: &values)
            try values.withUnsafeBufferPointer { try body($0.baseAddress!, count) }
        }
    }

    /// Writes `count` rows of `values` (the model's channels) as the writer's
    /// samples (bytes, or 16-bit), after checking they are finite; a gray
    /// writer of a colour model's values gets the mean of each pixel's three
    /// channels, a colour writer of a gray model's values the gray repeated.
    private func writeRows(_ values: [Float], count: Int, samples: inout OutputSamples, writer: PNGRowWriter) throws {
        let source = configuration.inputShape[2], pixels = count * writer.width
        for i in 0..<(pixels * source) where !values[i].isFinite {
            throw DAEError.invalidValue("denoised image", reason: "the model's output is not finite (\(values[i])): its weights are broken")
        }
        if writer.channels == source {
            for i in 0..<(pixels * source) { samples.set(i, values[i]) }
        } else if source == 1 {
            for p in 0..<pixels {
                for c in 0..<writer.channels { samples.set(p * writer.channels + c, values[p]) }
            }
        } else {
            for p in 0..<pixels {
                var sum: Float = 0
                for c in 0..<source { sum += values[p * source + c] }
                samples.set(p, sum / Float(source))
            }
        }
        try samples.write(count, to: writer)
    }
}

/// A buffer of output samples of 8 or 16 bits, for ``PNGRowWriter``.
struct OutputSamples {
    private var bytes: [UInt8]
    private var words: [UInt16]
    let bitDepth: Int

    init(count: Int, bitDepth: Int) {
        self.bitDepth = bitDepth
        bytes = bitDepth == 8 ? [UInt8](repeating: 0, count: count) : []
        words = bitDepth == 16 ? [UInt16](repeating: 0, count: count) : []
    }

    /// Sample `index` for a value in [0, 1] (clamped, NaN as 0, rounded to nearest).
    @inline(__always)
    mutating func set(_ index: Int, _ value: Float) {
        if bitDepth == 8 {
            bytes[index] = Image.byte(from: value)
        } else {
            words[index] = value > 0 ? (value < 1 ? UInt16((value * 65535).rounded()) : 65535) : 0
        }
    }

    /// Writes the first `count` rows to `writer`.
    func write(_ count: Int, to writer: PNGRowWriter) throws {
        if bitDepth == 8 {
            try bytes.withUnsafeBufferPointer { try writer.write(rows: $0, count: count) }
        } else {
            try words.withUnsafeBufferPointer { try writer.write(rows: $0, count: count) }
        }
    }
}

/// A window of consecutive rows of an image being read top to bottom, as floats in [0, 1].
final class RowWindow {
    let reader: ImageReader
    let width: Int, height: Int, channels: Int
    /// True when the rows are read as RGB and held as each pixel's mean of R, G and B (one channel).
    let meanOfRGB: Bool
    /// The first row held, and the rows held (`first ..< first + count`).
    private(set) var first = 0, count = 0
    private var values: [Float] = []
    /// Rows as read, before they join the window (or rows skipped).
    private var incoming: [Float] = []

    /// A window of the reader's rows as `channels` channels (converted as
    /// `ImageReader` converts), or, with `meanOfRGB`, as the mean of each
    /// pixel's R, G and B in full precision (`channels` is then 1).
    init(reader: ImageReader, channels: Int, meanOfRGB: Bool = false) {
        self.reader = reader
        width = reader.width
        height = reader.height
        self.channels = meanOfRGB ? 1 : channels
        self.meanOfRGB = meanOfRGB
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
        let (readChannels, readRowSize) = meanOfRGB ? (3, width * 3) : (channels, rowSize)
        while reader.rowsRead < rows.lowerBound {
            let skip = min(rows.lowerBound - reader.rowsRead, max(rows.count, 1))
            if incoming.count < skip * readRowSize { incoming = [Float](repeating: 0, count: skip * readRowSize) }
            try reader.readRows(skip, channels: readChannels, into: &incoming)
        }
        first = rows.lowerBound
        let missing = rows.upperBound - reader.rowsRead
        if missing > 0 {
            // Values in [0, 1]: byte / 255, or sample / 65535 for a 16-bit file (full precision).
            if incoming.count < missing * readRowSize { incoming = [Float](repeating: 0, count: missing * readRowSize) }
            try reader.readRows(missing, channels: readChannels, into: &incoming)
            values.withUnsafeMutableBufferPointer { v in
                incoming.withUnsafeBufferPointer { read in
                    let start = v.baseAddress! + count * rowSize
                    if meanOfRGB {
                        for p in 0..<(missing * width) { start[p] = (read[3 * p] + read[3 * p + 1] + read[3 * p + 2]) / 3 }
                    } else {
                        start.update(from: read.baseAddress!, count: missing * rowSize)
                    }
                }
            }
            count += missing
        }
    }

    /// Gives `body` the held rows: their values, the first row's index and their count.
    func withRows<R>(_ body: (UnsafePointer<Float>, Int, Int) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { try body($0.baseAddress!, first, count) }
    }
}
