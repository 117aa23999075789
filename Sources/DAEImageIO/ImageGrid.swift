import DAELayers

/// Figures that put batches of images side by side: the tutorial's
/// original / noisy / denoised grid and a robustness grid over noise levels.
///
/// Every input is an NHWC batch `[n, h, w, c]` in [0, 1] with `c` = 1 (the
/// figure is gray) or 3 (RGB); all batches of one figure share `h`, `w`, `c`.
/// Pixels are converted as ``Image/byte(from:)`` does (clamped, rounded).
public enum ImageGrid {
    /// The gray level of the gaps and separating lines: mid-grey.
    public static let separatorGray: UInt8 = 128

    /// The label of the originals' row in ``robustnessFigure(original:rows:columns:)``.
    public static let originalLabel = "original"

    /// The thickness in pixels of the line between the blocks of
    /// ``robustnessFigure(original:rows:columns:)``.
    public static let separatorThickness = 2

    /// The tutorial's figure, pixel for pixel as the Keras tutorial's display code
    /// (its NumPy reshaping of the tiles) lays it out.
    ///
    /// The figure has `3 · groups` rows of `columns` tiles. Row block `k`
    /// (`k` in `0..<groups`) is three rows: originals, their noisy copies,
    /// their denoised outputs. Because the tutorial splits its 9 × 9 tile
    /// array into column chunks of `q = columns / groups` tiles, column `c` of
    /// block `k` shows image `(c / q) · columns + k · q + c % q`. With the
    /// defaults the first block shows images 0, 1, 2, 9, 10, 11, 18, 19, 20,
    /// the second 3, 4, 5, 12, …, the third 6, 7, 8, 15, …, 26: 27 images.
    ///
    /// With `spacing` 0 the tiles touch, as in the tutorial; otherwise a gap of
    /// `spacing` pixels in ``separatorGray`` separates neighbouring tiles.
    /// (The tutorial truncates `x · 255` to a byte; this figure rounds, so a
    /// pixel may be one level brighter.)
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when `columns` is not a
    ///   multiple of `groups`, a count is not positive or a batch has fewer
    ///   than `groups · columns` images; ``DAEError/shapeMismatch(_:expected:actual:)``
    ///   when the batches differ in image shape.
    public static func tutorialFigure(
        original: Tensor, noisy: Tensor, denoised: Tensor,
        groups: Int = 3, columns: Int = 9, spacing: Int = 0
    ) throws -> Image {
        guard groups > 0, columns > 0, spacing >= 0 else {
            throw DAEError.invalidArgument(
                "tutorial figure needs positive groups and columns and a non-negative spacing, got \(groups), \(columns), \(spacing)")
        }
        guard columns % groups == 0 else {
            throw DAEError.invalidArgument("tutorial figure: columns (\(columns)) must be a multiple of groups (\(groups))")
        }
        let needed = groups * columns
        let sources = try Batch.validated(
            [("original", original), ("noisy", noisy), ("denoised", denoised)], needing: needed, for: "tutorial figure")
        let tile = sources[0]
        let rows = 3 * groups
        var canvas = try Image(
            width: columns * tile.width + (columns - 1) * spacing,
            height: rows * tile.height + (rows - 1) * spacing,
            channels: tile.channels, repeating: separatorGray)
        let q = columns / groups
        for row in 0..<rows {
            for column in 0..<columns {
                let index = (column / q) * columns + (row / 3) * q + column % q
                sources[row % 3].paste(
                    index, into: &canvas,
                    y: row * (tile.height + spacing), x: column * (tile.width + spacing))
            }
        }
        return canvas
    }

    /// A grid comparing several noise levels on the same images.
    ///
    /// Columns are images `0..<columns`. From top to bottom: the originals,
    /// then for each entry of `rows`, in order, a mid-grey line
    /// ``separatorThickness`` pixels high followed by two rows, that level's
    /// noisy images above their denoised outputs. When some label is not
    /// empty, a black margin on the left shows each label in white, centred
    /// beside its pair of rows, and ``originalLabel`` beside the originals (a built-in 3×5 pixel font: digits, A–Z,
    /// `. - + = : / % ( )`; lowercase is shown as uppercase, other characters
    /// as spaces), and a mid-grey line separates the margin from the images.
    ///
    /// ```swift
    /// let figure = try ImageGrid.robustnessFigure(
    ///     original: clean,
    ///     rows: [("std 0.5", noisy05, out05), ("std 0.75", noisy075, out075), ("std 1.0", noisy1, out1)],
    ///     columns: 9)
    /// ```
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` when `columns` is not
    ///   positive, `rows` is empty or a batch has fewer than `columns` images;
    ///   ``DAEError/shapeMismatch(_:expected:actual:)`` when the batches
    ///   differ in image shape.
    public static func robustnessFigure(
        original: Tensor, rows: [(label: String, noisy: Tensor, denoised: Tensor)], columns: Int
    ) throws -> Image {
        guard columns > 0, !rows.isEmpty else {
            throw DAEError.invalidArgument(
                "robustness figure needs at least one column and one noise level, got \(columns) and \(rows.count)")
        }
        var named = [("original", original)]
        for entry in rows {
            named.append(("noisy \"\(entry.label)\"", entry.noisy))
            named.append(("denoised \"\(entry.label)\"", entry.denoised))
        }
        let sources = try Batch.validated(named, needing: columns, for: "robustness figure")
        let tile = sources[0]
        let scale = max(1, tile.height / 14)
        let labels = rows.map(\.label)
        let hasLabels = labels.contains { !$0.isEmpty }
        let labelWidth = (labels + [originalLabel]).map { PixelFont.width(of: $0, scale: scale) }.max() ?? 0
        let margin = hasLabels ? labelWidth + 4 * scale + separatorThickness : 0
        let blockHeight = separatorThickness + 2 * tile.height
        var canvas = try Image(
            width: margin + columns * tile.width, height: tile.height + rows.count * blockHeight,
            channels: tile.channels, repeating: separatorGray)
        if margin > 0 {
            canvas.fill(y: 0..<canvas.height, x: 0..<(margin - separatorThickness), with: 0)
        }
        for (position, source) in sources.enumerated() {
            // position 0: originals; then (noisy, denoised) for each level.
            let block = (position - 1) / 2
            let y = position == 0 ? 0 : tile.height + block * blockHeight + separatorThickness
                + ((position - 1) % 2) * tile.height
            for column in 0..<columns {
                source.paste(column, into: &canvas, y: y, x: margin + column * tile.width)
            }
        }
        if hasLabels {
            PixelFont.draw(originalLabel, into: &canvas, x: 2 * scale, y: (tile.height - 5 * scale) / 2, scale: scale)
            for (block, label) in labels.enumerated() {
                let centre = tile.height + block * blockHeight + separatorThickness + tile.height
                PixelFont.draw(label, into: &canvas, x: 2 * scale, y: centre - 5 * scale / 2, scale: scale)
            }
        }
        return canvas
    }
}

/// One validated NHWC batch that tiles are copied from.
private struct Batch {
    let tensor: Tensor
    var height: Int { tensor.shape[1] }
    var width: Int { tensor.shape[2] }
    var channels: Int { tensor.shape[3] }

    /// Checks that every batch is `[n ≥ needed, h, w, 1 or 3]` with one shared `[h, w, c]`.
    static func validated(_ named: [(String, Tensor)], needing needed: Int, for figure: String) throws -> [Batch] {
        var reference: [Int]?
        for (name, tensor) in named {
            let shape = tensor.shape
            guard shape.count == 4, shape[1] > 0, shape[2] > 0, shape[3] == 1 || shape[3] == 3 else {
                throw DAEError.invalidArgument("\(figure): \(name) images must be [n, height, width, 1 or 3], not \(shape)")
            }
            guard shape[0] >= needed else {
                throw DAEError.invalidArgument("\(figure) needs \(needed) \(name) images, got \(shape[0])")
            }
            if let reference, Array(shape.dropFirst()) != reference {
                throw DAEError.shapeMismatch("\(figure): \(name) images", expected: reference, actual: Array(shape.dropFirst()))
            }
            reference = reference ?? Array(shape.dropFirst())
        }
        return named.map { Batch(tensor: $0.1) }
    }

    /// Copies image `index` into `canvas` with its top-left corner at (`y`, `x`).
    func paste(_ index: Int, into canvas: inout Image, y: Int, x: Int) {
        let rowLength = width * channels
        let start = index * height * rowLength
        for row in 0..<height {
            for offset in 0..<rowLength {
                let value = Image.byte(from: tensor.scalars[start + row * rowLength + offset])
                canvas[y + row, x + offset / channels, offset % channels] = value
            }
        }
    }
}

extension Image {
    /// Sets every channel of the pixels in the given rows and columns to
    /// `value`; the parts of the ranges outside the image are ignored.
    fileprivate mutating func fill(y rows: Range<Int>, x columns: Range<Int>, with value: UInt8) {
        for y in rows.clamped(to: 0..<height) {
            for x in columns.clamped(to: 0..<width) {
                for c in 0..<channels { self[y, x, c] = value }
            }
        }
    }
}

/// A 3×5 pixel font for short labels. Each glyph is five rows of three bits
/// written as one octal digit per row, top row first, left pixel = 4.
private enum PixelFont {
    static let glyphs: [Character: UInt16] = [
        "0": 0o75557, "1": 0o26227, "2": 0o71747, "3": 0o71717, "4": 0o55711,
        "5": 0o74717, "6": 0o74757, "7": 0o71122, "8": 0o75757, "9": 0o75717,
        ".": 0o00002, "-": 0o00700, "+": 0o02720, "=": 0o07070, ":": 0o02020,
        "/": 0o11244, "%": 0o51245, "(": 0o24442, ")": 0o21112,
        "A": 0o25755, "B": 0o65656, "C": 0o34443, "D": 0o65556, "E": 0o74647,
        "F": 0o74644, "G": 0o34553, "H": 0o55755, "I": 0o72227, "J": 0o11152,
        "K": 0o55655, "L": 0o44447, "M": 0o57755, "N": 0o65555, "O": 0o25552,
        "P": 0o65644, "Q": 0o25563, "R": 0o65655, "S": 0o34216, "T": 0o72222,
        "U": 0o55557, "V": 0o55552, "W": 0o55775, "X": 0o55255, "Y": 0o55222,
        "Z": 0o71247,
    ]

    /// The width in pixels of `text` drawn at `scale` (0 for empty text).
    static func width(of text: String, scale: Int) -> Int {
        text.isEmpty ? 0 : (4 * text.uppercased().count - 1) * scale
    }

    /// Draws `text` in white with its top-left corner at (`y`, `x`).
    static func draw(_ text: String, into canvas: inout Image, x: Int, y: Int, scale: Int) {
        for (i, character) in text.uppercased().enumerated() {
            let bits = glyphs[character] ?? 0
            for row in 0..<5 {
                for column in 0..<3 where bits >> (3 * (4 - row) + (2 - column)) & 1 == 1 {
                    let left = x + (4 * i + column) * scale, top = y + row * scale
                    canvas.fill(y: top..<top + scale, x: left..<left + scale, with: 255)
                }
            }
        }
    }
}
