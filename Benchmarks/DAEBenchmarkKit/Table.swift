import DAEKit

/// A table of results, rendered as a Markdown table whose columns are
/// padded to line up in a terminal too (so a run's output pastes straight
/// into `Docs/Benchmarks.md`).
public struct Table: Sendable, Codable, Equatable {
    /// How a column's cells line up.
    public enum Alignment: String, Sendable, Codable {
        case left, right
    }

    /// One column: its header and alignment.
    public struct Column: Sendable, Codable, Equatable {
        public var header: String
        public var alignment: Alignment

        public init(_ header: String, _ alignment: Alignment = .right) {
            self.header = header
            self.alignment = alignment
        }
    }

    /// The heading printed above the table.
    public var title: String
    public var columns: [Column]
    /// Rows of cells, one per column.
    public var rows: [[String]]
    /// Paragraphs printed under the table (units, method, caveats).
    public var notes: [String]

    public init(title: String, columns: [Column], rows: [[String]] = [], notes: [String] = []) {
        self.title = title
        self.columns = columns
        self.rows = rows
        self.notes = notes
    }

    /// Appends a row; it must have one cell per column.
    public mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "a row of \(row.count) cells in a table of \(columns.count) columns")
        rows.append(row)
    }

    /// The title, the Markdown table (drawn by the package's one renderer, `TextTable`) and the notes.
    public func rendered() -> String {
        let table = TextTable(header: columns.map(\.header), alignments: columns.map { $0.alignment == .left ? .left : .right },
                              rows: rows)
        var lines = ["### \(title)", ""] + table.lines(style: .markdown)
        for note in notes {   // one paragraph each
            lines.append("")
            lines.append(note)
        }
        return lines.joined(separator: "\n")
    }
}
