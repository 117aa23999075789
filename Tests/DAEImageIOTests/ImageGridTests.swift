import DAEImageIO
import DAELayers
import Testing

/// A batch of `count` images of `height × width × channels` where every pixel
/// of image `i` has the byte value `offset + i` (so the figure tells which
/// image landed where).
func labelledBatch(count: Int, height: Int, width: Int, channels: Int = 1, offset: Int) -> Tensor {
    let size = height * width * channels
    let scalars = (0..<count).flatMap { i in [Float](repeating: Float(offset + i) / 255, count: size) }
    return Tensor(shape: [count, height, width, channels], scalars: scalars)
}

@Suite("Figures")
struct ImageGridTests {
    // Tiles are 4 rows × 5 columns so that a swapped height and width shows.
    let original = labelledBatch(count: 27, height: 4, width: 5, offset: 0)
    let noisy = labelledBatch(count: 27, height: 4, width: 5, offset: 100)
    let denoised = labelledBatch(count: 27, height: 4, width: 5, offset: 200)

    /// The tile table the Keras tutorial's figure code (its matplotlib grid
    /// of 3 groups × 3 rows × 9 columns) produces, from
    ///
    ///     mk = lambda off: (np.arange(27) + off).reshape(27, 1, 1) / 255
    ///     tutorial_figure(mk(0), mk(100), mk(200))
    let tutorialTable: [[Int]] = [
        [0, 1, 2, 9, 10, 11, 18, 19, 20],
        [100, 101, 102, 109, 110, 111, 118, 119, 120],
        [200, 201, 202, 209, 210, 211, 218, 219, 220],
        [3, 4, 5, 12, 13, 14, 21, 22, 23],
        [103, 104, 105, 112, 113, 114, 121, 122, 123],
        [203, 204, 205, 212, 213, 214, 221, 222, 223],
        [6, 7, 8, 15, 16, 17, 24, 25, 26],
        [106, 107, 108, 115, 116, 117, 124, 125, 126],
        [206, 207, 208, 215, 216, 217, 224, 225, 226],
    ]

    @Test("the tutorial figure puts every image where the NumPy reshaping does")
    func tutorialLayout() throws {
        let figure = try ImageGrid.tutorialFigure(original: original, noisy: noisy, denoised: denoised)
        #expect(figure.width == 9 * 5 && figure.height == 9 * 4 && figure.channels == 1)
        for row in 0..<9 {
            for column in 0..<9 {
                // Top-left and bottom-right pixel of each tile.
                #expect(Int(figure[row * 4, column * 5, 0]) == tutorialTable[row][column])
                #expect(Int(figure[row * 4 + 3, column * 5 + 4, 0]) == tutorialTable[row][column])
            }
        }
    }

    @Test("spacing adds mid-grey gaps between tiles; RGB input gives an RGB figure")
    func tutorialSpacingRGB() throws {
        let rgb = [0, 100, 200].map { labelledBatch(count: 27, height: 4, width: 5, channels: 3, offset: $0) }
        let figure = try ImageGrid.tutorialFigure(original: rgb[0], noisy: rgb[1], denoised: rgb[2], spacing: 2)
        #expect(figure.channels == 3)
        #expect(figure.width == 9 * 5 + 8 * 2 && figure.height == 9 * 4 + 8 * 2)
        #expect(figure[0, 5, 0] == ImageGrid.separatorGray)  // gap right of tile (0, 0)
        #expect(figure[4, 0, 1] == ImageGrid.separatorGray)  // gap below tile (0, 0)
        #expect(figure[0, 7, 2] == 1)                        // tile (0, 1): original 1
        #expect(figure[6, 0, 1] == 100)                      // tile (1, 0): noisy 0
    }

    @Test("too few images or mismatched shapes are clear errors")
    func tutorialErrors() throws {
        let few = labelledBatch(count: 26, height: 4, width: 5, offset: 0)
        #expect(throws: DAEError.invalidArgument("tutorial figure needs 27 noisy images, got 26")) {
            try ImageGrid.tutorialFigure(original: original, noisy: few, denoised: denoised)
        }
        let other = labelledBatch(count: 27, height: 5, width: 4, offset: 0)
        #expect(throws: DAEError.self) { try ImageGrid.tutorialFigure(original: original, noisy: noisy, denoised: other) }
        #expect(throws: DAEError.self) {
            try ImageGrid.tutorialFigure(original: original, noisy: noisy, denoised: denoised, groups: 2)
        }
    }

    @Test("the robustness figure stacks originals, then a separator and a noisy/denoised pair per level")
    func robustnessLayout() throws {
        let levels = [0, 1, 2].map { level in
            (label: "", noisy: labelledBatch(count: 6, height: 4, width: 5, offset: 50 + 50 * level),
             denoised: labelledBatch(count: 6, height: 4, width: 5, offset: 75 + 50 * level))
        }
        let figure = try ImageGrid.robustnessFigure(original: original, rows: levels, columns: 6)
        let line = ImageGrid.separatorThickness
        #expect(figure.width == 6 * 5)  // no labels: no margin
        #expect(figure.height == 4 + 3 * (line + 2 * 4))
        for column in 0..<6 {
            let x = column * 5 + 2
            #expect(Int(figure[1, x, 0]) == column)                      // originals
            for level in 0..<3 {
                let top = 4 + level * (line + 8)
                #expect(figure[top, x, 0] == ImageGrid.separatorGray)     // the line
                #expect(Int(figure[top + line + 1, x, 0]) == 50 + 50 * level + column)  // noisy
                #expect(Int(figure[top + line + 5, x, 0]) == 75 + 50 * level + column)  // denoised
            }
        }
    }

    @Test("labels add a black margin with white text on the left")
    func robustnessLabels() throws {
        let levels = [(label: "std 0.5", noisy: noisy, denoised: denoised)]
        let figure = try ImageGrid.robustnessFigure(original: original, rows: levels, columns: 9)
        let margin = figure.width - 9 * 5
        #expect(margin > 0)
        #expect(figure[0, 0, 0] == 0)
        #expect(figure[0, margin - 1, 0] == ImageGrid.separatorGray)
        let marginPixels = (0..<figure.height).flatMap { y in (0..<margin).map { figure[y, $0, 0] } }
        #expect(marginPixels.contains(255))
        #expect(Int(figure[0, margin, 0]) == 0)  // first original right after the margin
    }

    @Test("the robustness figure needs `columns` images in every batch")
    func robustnessErrors() throws {
        let few = labelledBatch(count: 3, height: 4, width: 5, offset: 0)
        #expect(throws: DAEError.self) {
            try ImageGrid.robustnessFigure(original: original, rows: [("0.5", few, denoised)], columns: 9)
        }
        #expect(throws: DAEError.self) { try ImageGrid.robustnessFigure(original: original, rows: [], columns: 9) }
    }
}
