import DAELayers

/// The validated header of an unsigned-byte IDX file (see ``IDXFile``).
struct IDXHeader {
    /// The dimensions, each in 1…`UInt32.max`.
    let dimensions: [Int]
    /// The product of the dimensions, checked for overflow.
    let byteCount: Int

    /// The rank announced by the 4 magic bytes, after checking them.
    static func rank(fromMagic magic: [UInt8], path: String) throws -> Int {
        guard magic.count == 4 else {
            throw DAEError.corruptFile(
                path: path, reason: "too short for an IDX header (\(magic.count) bytes, at least 4 needed)")
        }
        let hex = magic.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        guard magic[0] == 0, magic[1] == 0 else {
            throw DAEError.corruptFile(path: path, reason: "bad magic number 0x\(hex): not an IDX file (must start with two zero bytes)")
        }
        guard magic[2] == 0x08 else {
            throw DAEError.corruptFile(
                path: path,
                reason: "unsupported element type 0x\(hex.dropFirst(4).prefix(2)) (\(typeName(magic[2]))) in magic 0x\(hex); only unsigned bytes (0x08) are supported")
        }
        let rank = Int(magic[3])
        guard (1...4).contains(rank) else {
            throw DAEError.corruptFile(path: path, reason: "unsupported rank \(rank) in magic 0x\(hex); expected 1…4")
        }
        return rank
    }

    /// Parses and checks `4 · rank` big-endian dimension bytes.
    init(dimensionBytes: [UInt8], path: String) throws {
        var dimensions = [Int]()
        dimensions.reserveCapacity(dimensionBytes.count / 4)
        var index = 0
        while index + 4 <= dimensionBytes.count {
            let value = dimensionBytes[index..<(index + 4)].reduce(0) { ($0 << 8) | Int($1) }
            dimensions.append(value)
            index += 4
        }
        let shown = dimensions.map(String.init).joined(separator: "x")
        if let zero = dimensions.firstIndex(of: 0) {
            throw DAEError.corruptFile(path: path, reason: "header claims \(shown): dimension \(zero) is zero")
        }
        guard let count = Tensor.checkedElementCount(of: dimensions) else {
            throw DAEError.corruptFile(path: path, reason: "header claims \(shown): the element count overflows")
        }
        self.dimensions = dimensions
        self.byteCount = count
    }

    private init(dimensions: [Int], byteCount: Int) {
        self.dimensions = dimensions
        self.byteCount = byteCount
    }

    /// The header of the first `items` items (entries of the first
    /// dimension) only, or this one when `items` is nil or not smaller.
    func limited(toItems items: Int?) -> IDXHeader {
        guard let items, items >= 0, items < dimensions[0] else { return self }
        let kept = [items] + dimensions.dropFirst()
        return IDXHeader(dimensions: kept, byteCount: byteCount / dimensions[0] * items)
    }

    /// Throws unless the payload fits ``IDXFile/maximumByteCount``; checked before decompressing.
    func checkLimit(path: String) throws {
        guard byteCount <= IDXFile.maximumByteCount else {
            throw DAEError.corruptFile(
                path: path,
                reason: "header claims \(shown) = \(byteCount) bytes, more than the limit of \(IDXFile.maximumByteCount) bytes")
        }
    }

    /// "header claims 60000x28x28 = 47040000 bytes but the file holds 1234 (truncated)".
    func sizeMismatch(actual: Int) -> String {
        "header claims \(shown) = \(byteCount) bytes but the file holds \(actual)"
            + (actual < byteCount ? " (truncated)" : " (trailing data)")
    }

    /// The message for a compressed payload that goes on past the announced size.
    func trailingData() -> String {
        "header claims \(shown) = \(byteCount) bytes but the file holds more (trailing data)"
    }

    /// The dimensions as "60000x28x28".
    private var shown: String { dimensions.map(String.init).joined(separator: "x") }

    private static func typeName(_ code: UInt8) -> String {
        switch code {
        case 0x09: return "signed byte"
        case 0x0B: return "int16"
        case 0x0C: return "int32"
        case 0x0D: return "float32"
        case 0x0E: return "float64"
        default: return "unknown type"
        }
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
