import DAELayers
import Foundation

/// Parses and validates safetensors bytes. Every failure is a
/// ``DAEError/corruptFile(path:reason:)`` whose reason names the tensor and the problem.
///
/// Order of work: header length, header JSON, each entry on its own (dtype,
/// shape, offsets, byte span), then the layout of the data section as a
/// whole; only then are tensors decoded, so no allocation depends on an
/// unchecked number.
struct SafetensorsReader {
    /// Where the bytes came from, for messages only.
    let path: String

    /// One validated header entry.
    struct Entry {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var elementCount: Int
        var begin: Int
        var end: Int
    }

    func read(_ data: Data) throws -> SafetensorsFile {
        try data.withUnsafeBytes { try read($0) }
    }

    private func read(_ raw: UnsafeRawBufferPointer) throws -> SafetensorsFile {
        let headerLength = try readHeaderLength(raw)
        let dataStart = 8 + headerLength
        let header = try parseHeaderJSON(Array(raw[8..<dataStart]))
        let dataSection = UnsafeRawBufferPointer(rebasing: raw[dataStart...])
        let (entries, metadata) = try parseHeader(header, dataSize: dataSection.count)
        try checkLayout(entries, dataSize: dataSection.count)
        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(entries.count)
        for entry in entries {
            tensors[entry.name] = try decode(entry, from: dataSection)
        }
        return SafetensorsFile(tensors: tensors, metadata: metadata)
    }

    // MARK: Header length and JSON

    /// The header length `N` from the first 8 bytes, checked against the file size and the cap.
    private func readHeaderLength(_ raw: UnsafeRawBufferPointer) throws -> Int {
        guard raw.count >= 8 else {
            throw corrupt("file is \(raw.count) bytes long, too short for the 8-byte header length")
        }
        let length = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        let available = raw.count - 8
        // A safetensors header is a JSON object: it starts with `{` right
        // after the length. A file that fails both checks is something else
        // (a text file, a gzip, Keras's HDF5, PyTorch's zip): say so rather
        // than quote eight of its bytes as a 19-digit length.
        let startsLikeJSON = raw.count > 8 && raw[8] == UInt8(ascii: "{")
        if !startsLikeJSON, length > UInt64(min(available, SafetensorsFile.maximumHeaderLength)) {
            throw Self.notSafetensors(raw, path: path)
        }
        guard length <= UInt64(available) else {
            throw corrupt("header length \(length) runs past the end of the file (\(available) bytes follow the length field)")
        }
        guard length <= UInt64(SafetensorsFile.maximumHeaderLength) else {
            throw corrupt("header length \(length) exceeds the limit of \(SafetensorsFile.maximumHeaderLength) bytes")
        }
        return Int(length)
    }

    /// The error for bytes that are not a safetensors file at all, naming what they look like.
    static func notSafetensors(_ raw: UnsafeRawBufferPointer, path: String) -> DAEError {
        let head = Array(raw.prefix(8))
        let kind: String
        if head.starts(with: [0x1F, 0x8B]) {
            kind = " (it is gzip-compressed)"
        } else if head.starts(with: [0x89, 0x48, 0x44, 0x46]) {
            kind = " (it is an HDF5 file, such as Keras's .h5: save the weights as safetensors, see the CheckpointFormat article)"
        } else if head.starts(with: Array("PK".utf8)) {
            kind = " (it is a zip archive, such as PyTorch's .pt or Keras's .keras: save the weights as safetensors)"
        } else if !head.isEmpty, head.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || (32...126).contains($0) }) {
            kind = " (it starts with the text \"\(String(decoding: head, as: UTF8.self))\")"
        } else {
            kind = ""
        }
        return .corruptFile(path: path, reason: "not a safetensors model file\(kind): a safetensors file starts with an "
                            + "8-byte little-endian header length followed by a JSON header '{…}'")
    }

    private func parseHeaderJSON(_ bytes: [UInt8]) throws -> JSONValue {
        // Decoding repairs bad sequences with U+FFFD: the bytes are valid UTF-8 when nothing was repaired.
        guard String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) else { throw corrupt("header is not valid UTF-8") }
        do {
            return try JSONCoding.decoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw corrupt("header is not valid JSON (or nests deeper than 512 levels)")
        }
    }

    // MARK: Header entries

    /// Splits the top-level object into validated tensor entries and the metadata.
    /// Entries are checked in name order, so the first problem reported does not depend on hashing.
    private func parseHeader(_ header: JSONValue, dataSize: Int) throws -> ([Entry], [String: String]) {
        guard case .object(let members) = header else {
            throw corrupt("header is \(header.summary), not a JSON object")
        }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for key in members.keys.sorted() {
            let value = members[key]!
            if key == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name: key, value: value, dataSize: dataSize))
            }
        }
        return (entries, metadata)
    }

    private func parseMetadata(_ value: JSONValue) throws -> [String: String] {
        guard case .object(let members) = value else {
            throw corrupt("'__metadata__' is \(value.summary), not an object of strings")
        }
        var metadata: [String: String] = [:]
        for key in members.keys.sorted() {
            guard case .string(let text) = members[key]! else {
                throw corrupt("'__metadata__' value for key '\(key)' is \(members[key]!.summary), not a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private func parseEntry(name: String, value: JSONValue, dataSize: Int) throws -> Entry {
        guard case .object(let fields) = value else {
            throw corrupt(tensor: name, "entry is \(value.summary), not an object")
        }
        let dtype = try parseDType(fields["dtype"], tensor: name)
        let shape = try parseShape(fields["shape"], tensor: name)
        let (begin, end) = try parseOffsets(fields["data_offsets"], tensor: name, dataSize: dataSize)
        let count = try checkByteSpan(shape: shape, dtype: dtype, span: end - begin, tensor: name)
        return Entry(name: name, dtype: dtype, shape: shape, elementCount: count, begin: begin, end: end)
    }

    private func parseDType(_ value: JSONValue?, tensor: String) throws -> SafetensorsDType {
        guard let value else { throw corrupt(tensor: tensor, "missing 'dtype'") }
        guard case .string(let text) = value else {
            throw corrupt(tensor: tensor, "'dtype' is \(value.summary), not a string")
        }
        guard let dtype = SafetensorsDType(rawValue: text) else {
            let supported = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw corrupt(tensor: tensor, "unsupported dtype '\(text.prefix(40))' (supported: \(supported))")
        }
        return dtype
    }

    private func parseShape(_ value: JSONValue?, tensor: String) throws -> [Int] {
        guard let value else { throw corrupt(tensor: tensor, "missing 'shape'") }
        guard case .array(let elements) = value else {
            throw corrupt(tensor: tensor, "'shape' is \(value.summary), not an array of integers")
        }
        return try elements.map { try nonNegativeInteger($0, what: "shape entry", tensor: tensor) }
    }

    /// `[begin, end]` with `0 ≤ begin ≤ end ≤ dataSize`.
    private func parseOffsets(_ value: JSONValue?, tensor: String, dataSize: Int) throws -> (Int, Int) {
        guard let value else { throw corrupt(tensor: tensor, "missing 'data_offsets'") }
        guard case .array(let elements) = value, elements.count == 2 else {
            throw corrupt(tensor: tensor, "'data_offsets' must be an array of two integers")
        }
        let begin = try nonNegativeInteger(elements[0], what: "data_offsets entry", tensor: tensor)
        let end = try nonNegativeInteger(elements[1], what: "data_offsets entry", tensor: tensor)
        guard begin <= end else {
            throw corrupt(tensor: tensor, "data_offsets [\(begin),\(end)] begin after their end")
        }
        guard end <= dataSize else {
            throw corrupt(tensor: tensor,
                          "data_offsets [\(begin),\(end)] run past the end of the data section (\(dataSize) bytes)")
        }
        return (begin, end)
    }

    /// The element count, after checking that it times the dtype size equals `span`.
    private func checkByteSpan(shape: [Int], dtype: SafetensorsDType, span: Int, tensor: String) throws -> Int {
        let shapeText = Self.format(shape)
        guard let count = Tensor.checkedElementCount(of: shape) else {
            throw corrupt(tensor: tensor, "shape \(shapeText) has too many elements (the element count overflows)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else {
            throw corrupt(tensor: tensor, "shape \(shapeText) of \(dtype.rawValue) is too large (the byte count overflows)")
        }
        guard bytes == span else {
            throw corrupt(tensor: tensor, "shape \(shapeText) needs \(bytes) bytes but data_offsets span \(span)")
        }
        return count
    }

    /// A JSON integer that fits in `Int` and is not negative.
    private func nonNegativeInteger(_ value: JSONValue, what: String, tensor: String) throws -> Int {
        switch value {
        case .integer(let integer):
            guard integer >= 0 else { throw corrupt(tensor: tensor, "\(what) \(integer) is negative") }
            return integer
        case .number(let number) where number.rounded() == number && number.isFinite:
            throw corrupt(tensor: tensor, "\(what) \(value.summary) is too large")
        default:
            throw corrupt(tensor: tensor, "\(what) \(value.summary) is not an integer")
        }
    }

    // MARK: Data section layout

    /// The entries, sorted by offset, must tile the data section: no overlap, no gap, no trailing bytes.
    private func checkLayout(_ entries: [Entry], dataSize: Int) throws {
        let sorted = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var cursor = 0
        var previous: String?
        for entry in sorted {
            let offsets = "data_offsets [\(entry.begin),\(entry.end)]"
            if entry.begin < cursor {
                throw corrupt(tensor: entry.name,
                              "\(offsets) overlap tensor '\(previous ?? "")', which ends at byte \(cursor)")
            }
            if entry.begin > cursor {
                let after = previous.map { "tensor '\($0)' ends at byte \(cursor)" } ?? "the data section starts at byte 0"
                throw corrupt(tensor: entry.name,
                              "\(offsets) leave a gap of \(entry.begin - cursor) bytes (\(after))")
            }
            cursor = entry.end
            previous = entry.name
        }
        guard cursor == dataSize else {
            throw corrupt("data section has \(dataSize - cursor) trailing bytes after the last tensor "
                          + "(tensors end at byte \(cursor), the data section is \(dataSize) bytes)")
        }
    }

    // MARK: Decoding

    private func decode(_ entry: Entry, from dataSection: UnsafeRawBufferPointer) throws -> Tensor {
        let bytes = UnsafeRawBufferPointer(rebasing: dataSection[entry.begin..<entry.end])
        let scalars = entry.dtype.decode(bytes, count: entry.elementCount)
        do {
            return try Tensor(validatingShape: entry.shape, scalars: scalars)
        } catch {
            throw corrupt(tensor: entry.name, "shape \(Self.format(entry.shape)) is not a valid tensor shape")
        }
    }

    // MARK: Messages

    private func corrupt(_ reason: String) -> DAEError {
        .corruptFile(path: path, reason: reason)
    }

    private func corrupt(tensor: String, _ problem: String) -> DAEError {
        corrupt("tensor '\(tensor)': \(problem)")
    }

    /// `[3,3,1,32]`, the compact form used in messages (long shapes shortened).
    static func format(_ shape: [Int]) -> String {
        let shown = shape.prefix(16).map(String.init).joined(separator: ",")
        return "[" + shown + (shape.count > 16 ? ",…" : "") + "]"
    }
}
