import DAELayers

extension ImageGrid {
    /// A figure of photograph crops at full size: one row per crop, three
    /// columns (clean, noisy, denoised), separated by `spacing` pixels of
    /// ``separatorGray``.
    ///
    /// Each crop is a tensor `[1, h, w, c]` in [0, 1]; all crops share `h`, `w`
    /// and `c` (1 or 3).
    ///
    /// - Throws: ``DAEError/invalidArgument(_:)`` for no rows, a bad tensor or
    ///   crops of different shapes.
    public static func photoFigure(rows: [(clean: Tensor, noisy: Tensor, denoised: Tensor)], spacing: Int = 6) throws -> Image {
        guard let first = rows.first?.clean, first.rank == 4, first.shape[0] == 1,
              first.shape[3] == 1 || first.shape[3] == 3, spacing >= 0 else {
            throw DAEError.invalidArgument("a photo figure needs rows of [1, h, w, 1 or 3] crops")
        }
        let (h, w, c) = (first.shape[1], first.shape[2], first.shape[3])
        for row in rows {
            for crop in [row.clean, row.noisy, row.denoised] where crop.shape != first.shape {
                throw DAEError.invalidArgument("photo figure crops differ in shape: \(crop.shape) and \(first.shape)")
            }
        }
        let width = 3 * w + 4 * spacing, height = rows.count * h + (rows.count + 1) * spacing
        var figure = try Image(width: width, height: height, channels: c, repeating: separatorGray)
        for (r, row) in rows.enumerated() {
            for (column, crop) in [row.clean, row.noisy, row.denoised].enumerated() {
                let top = spacing + r * (h + spacing), left = spacing + column * (w + spacing)
                for y in 0..<h {
                    for x in 0..<w {
                        for ch in 0..<c {
                            figure[top + y, left + x, ch] = Image.byte(from: crop.scalars[(y * w + x) * c + ch])
                        }
                    }
                }
            }
        }
        return figure
    }
}
