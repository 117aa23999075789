import DAEFiles
import DAELayers
import Foundation

/// An IDX file of unsigned bytes: the format of MNIST, Fashion-MNIST, KMNIST and EMNIST.
///
/// The format is a big-endian header, then the elements in row-major order:
///
/// | bytes | content |
/// | --- | --- |
/// | 0–1 | zero |
/// | 2 | element type: `0x08` = unsigned byte (the only type read here) |
/// | 3 | rank `r` (1…4 accepted) |
/// | 4 … 4 + 4r | each dimension as a big-endian `UInt32` |
/// | rest | exactly the product of the dimensions, one byte per element |
///
/// Images are `0x00000803` (`n × height × width`), labels `0x00000801` (`n`).
/// The file may be gzip-compressed; this is detected from its first two
/// bytes (0x1f 0x8b), not from its name.
///
/// Reading never trusts the header: the magic, the rank, every dimension and
/// their product are checked (with overflow checks) before anything of that
/// size is allocated, and the payload must hold exactly that many bytes.
/// Every problem is a `DAEError` whose message names the file.
///
/// ```swift
/// let images = try IDXFile(contentsOf: URL(fileURLWithPath: "train-images-idx3-ubyte.gz"))
/// images.dimensions   // [60000, 28, 28]
/// images.bytes.count  // 47_040_000
/// ```
public struct IDXFile: Sendable, Equatable {
    /// The size of each dimension, outermost first (for images `[n, height, width]`).
    public let dimensions: [Int]
    /// The elements in row-major order; `bytes.count` is the product of ``dimensions``.
    public let bytes: [UInt8]
    /// Where the data came from, as given to the initializer; used in error messages.
    public let path: String

    /// The largest payload read from a gzip-compressed file, 16 GiB: a header
    /// claiming more is rejected before decompression starts. (A plain file's
    /// payload is already in memory and only has to match its header.)
    public static let maximumByteCount = 1 << 34

    /// Reads an IDX file, plain or gzip-compressed.
    ///
    /// - Throws: `DAEError/fileUnreadable(path:reason:)` when the file is
    ///   missing, cannot be read or is not a regular file, `DAEError/corruptFile(path:reason:)`
    ///   when its content is not a well-formed unsigned-byte IDX file.
    ///
    /// With `maximumItems`, only the first `maximumItems` items (images, or
    /// labels) are kept, and a compressed file is only decompressed that far
    /// (the rest of it is not checked): memory follows what is asked for,
    /// not what the header claims.
    public init(contentsOf url: URL, maximumItems: Int? = nil) throws {
        // Read, not mapped: a mapped file truncated by another process would crash the reader.
        let data = try RegularFile.read(url)
        let path = url.path
        try self.init(data: data, path: path, maximumItems: maximumItems)
    }

    /// Parses the bytes of an IDX file, plain or gzip-compressed; `path` names
    /// it in errors. `maximumItems` keeps only the first items, as in ``init(contentsOf:maximumItems:)``.
    ///
    /// - Throws: `DAEError/corruptFile(path:reason:)` for any malformed input.
    public init(data: Data, path: String, maximumItems: Int? = nil) throws {
        if GzipInflater.isGzip(data) {
            self = try IDXFile.parseCompressed(data, path: path, maximumItems: maximumItems)
        } else {
            self = try IDXFile.parsePlain(data, path: path, maximumItems: maximumItems)
        }
    }

    /// Creates an IDX file in memory; the byte count must equal the product of the dimensions.
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` when the rank is not 1…4, a
    ///   dimension is not positive, or the sizes do not match.
    public init(dimensions: [Int], bytes: [UInt8], path: String = "<memory>") throws {
        guard (1...4).contains(dimensions.count), dimensions.allSatisfy({ $0 > 0 && $0 <= Int(UInt32.max) }),
              let count = Tensor.checkedElementCount(of: dimensions), count == bytes.count
        else {
            throw DAEError.invalidArgument(
                "IDX dimensions \(dimensions) (rank 1…4, each 1…\(UInt32.max)) do not describe \(bytes.count) bytes")
        }
        self.dimensions = dimensions
        self.bytes = bytes
        self.path = path
    }

    private init(validated dimensions: [Int], bytes: [UInt8], path: String) {
        self.dimensions = dimensions
        self.bytes = bytes
        self.path = path
    }

    // MARK: - Parsing

    private static func parsePlain(_ data: Data, path: String, maximumItems: Int?) throws -> IDXFile {
        let magic = Array(data.prefix(4))
        let rank = try IDXHeader.rank(fromMagic: magic, path: path)
        let headerLength = 4 + 4 * rank
        guard data.count >= headerLength else {
            throw DAEError.corruptFile(
                path: path, reason: "file ends inside the header (\(data.count) bytes, a rank-\(rank) header needs \(headerLength))")
        }
        let header = try IDXHeader(dimensionBytes: Array(data.dropFirst(4).prefix(4 * rank)), path: path)
        let payloadLength = data.count - headerLength
        guard payloadLength == header.byteCount else {
            throw DAEError.corruptFile(path: path, reason: header.sizeMismatch(actual: payloadLength))
        }
        let kept = header.limited(toItems: maximumItems)
        return IDXFile(validated: kept.dimensions, bytes: Array(data.dropFirst(headerLength).prefix(kept.byteCount)), path: path)
    }

    private static func parseCompressed(_ data: Data, path: String, maximumItems: Int?) throws -> IDXFile {
        let inflater = try GzipInflater(compressed: data, path: path)
        let magic = try readUpTo(4, from: inflater)
        let rank = try IDXHeader.rank(fromMagic: magic, path: path)
        let dimensionBytes = try readUpTo(4 * rank, from: inflater)
        guard dimensionBytes.count == 4 * rank else {
            throw DAEError.corruptFile(
                path: path, reason: "file ends inside the header (\(4 + dimensionBytes.count) bytes after decompression, a rank-\(rank) header needs \(4 + 4 * rank))")
        }
        let fullHeader = try IDXHeader(dimensionBytes: dimensionBytes, path: path)
        let header = fullHeader.limited(toItems: maximumItems)
        try header.checkLimit(path: path)
        let payload = try readPayload(of: header, from: inflater, compressedSize: data.count, path: path,
                                      checkEnd: header.byteCount == fullHeader.byteCount)
        return IDXFile(validated: header.dimensions, bytes: payload, path: path)
    }

    /// Reads up to `count` (a small header size) decompressed bytes.
    private static func readUpTo(_ count: Int, from inflater: GzipInflater) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = try bytes.withUnsafeMutableBytes { try inflater.read(into: $0) }
        return Array(bytes.prefix(read))
    }

    /// Reads exactly the payload the header announces, then (with `checkEnd`) checks that the stream ends there.
    ///
    /// Memory grows with the data actually decompressed; the initial reservation
    /// is bounded by what the compressed size can possibly expand to.
    private static func readPayload(
        of header: IDXHeader, from inflater: GzipInflater, compressedSize: Int, path: String, checkEnd: Bool
    ) throws -> [UInt8] {
        let expected = header.byteCount
        let (bound, overflow) = compressedSize.multipliedReportingOverflow(by: GzipInflater.maximumExpansion)
        var payload = [UInt8]()
        payload.reserveCapacity(overflow ? expected : min(expected, bound))
        let chunkSize = 1 << 20
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        while payload.count < expected {
            let wanted = min(chunkSize, expected - payload.count)
            let read = try chunk.withUnsafeMutableBytes { raw in
                try inflater.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]))
            }
            payload.append(contentsOf: chunk[0..<read])
            if read < wanted {
                throw DAEError.corruptFile(path: path, reason: header.sizeMismatch(actual: payload.count))
            }
        }
        guard checkEnd else { return payload }
        var probe: UInt8 = 0
        let extra = try withUnsafeMutableBytes(of: &probe) { try inflater.read(into: $0) }
        guard extra == 0 else {
            throw DAEError.corruptFile(path: path, reason: header.trailingData())
        }
        return payload
    }
}
