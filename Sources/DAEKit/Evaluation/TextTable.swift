/// The package's one table renderer: columns padded to their widest cell,
/// each aligned left or right, as plain text (the model summary, the `dae`
/// tool's tables) or as a Markdown table that also lines up in a terminal
/// (the benchmark reports, pasted into Docs/Benchmarks.md).
package struct TextTable: Sendable, Equatable {
    /// How a column's cells line up.
    package enum Alignment: String, Sendable, Codable {
        case left, right
    }

    /// How the table is drawn.
    package enum Style: Sendable, Equatable {
        /// Cells separated by two spaces, a rule of `rule` under the header.
        case plain(rule: Character)
        /// `| a | b |` rows with a `|---|--:|` alignment row.
        case markdown
    }

    /// Column titles.
    package var header: [String]
    /// Each column's alignment.
    package var alignments: [Alignment]
    /// Cells, row by row; a short row is padded with empty cells.
    package var rows: [[String]]

    /// A table; by default the first column is left-aligned and the others (numbers) right-aligned.
    package init(header: [String], alignments: [Alignment]? = nil, rows: [[String]] = []) {
        self.header = header
        self.alignments = alignments ?? header.indices.map { $0 == 0 ? .left : .right }
        self.rows = rows
    }

    /// The table, one string per line.
    package func lines(style: Style = .plain(rule: "-")) -> [String] {
        let minimum = style == .markdown ? 3 : 0
        let widths = header.indices.map { column in
            ([header] + rows).map { $0.indices.contains(column) ? $0[column].count : 0 }.max().map { max($0, minimum) } ?? minimum
        }
        func padded(_ cells: [String]) -> [String] {
            header.indices.map { column in
                let cell = cells.indices.contains(column) ? cells[column] : ""
                let fill = String(repeating: " ", count: max(widths[column] - cell.count, 0))
                return alignments[column] == .left ? cell + fill : fill + cell
            }
        }
        switch style {
        case let .plain(rule):
            let line = { (cells: [String]) in padded(cells).joined(separator: "  ") }
            let ruler = String(repeating: rule, count: widths.reduce(0, +) + 2 * max(widths.count - 1, 0))
            return [line(header), ruler] + rows.map(line)
        case .markdown:
            let line = { (cells: [String]) in "| " + padded(cells).joined(separator: " | ") + " |" }
            let ruler = "|" + header.indices.map { column in
                let dashes = String(repeating: "-", count: max(widths[column] - 1, 2))
                return alignments[column] == .left ? " " + dashes + "- " : " " + dashes + ": "
            }.joined(separator: "|") + "|"
            return [line(header), ruler] + rows.map(line)
        }
    }
}
