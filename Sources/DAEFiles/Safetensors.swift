import DAELayers
import Foundation

/// A safetensors file in memory: named tensors plus string metadata.
///
/// The format (<https://github.com/huggingface/safetensors>) is an 8-byte
/// little-endian header length `N`, an `N`-byte UTF-8 JSON header mapping
/// each tensor name to `{"dtype", "shape", "data_offsets"}` (plus an optional
/// `__metadata__` object of strings), and the tensors' raw little-endian bytes.
///
/// Reading accepts `F32` tensors and converts `F64`, `F16` and `BF16` to
/// `Float`, so weights saved by other frameworks load. It treats the file as
/// hostile: every length, offset and shape is checked before anything is
/// allocated, and every problem is a ``DAEError/corruptFile(path:reason:)``
/// naming the tensor and what is wrong. Writing always produces `F32`,
/// tensors in sorted-name order, and replaces the target atomically.
///
/// ```swift
/// let file = SafetensorsFile(tensors: ["dense.kernel": kernel],
///                            metadata: ["architecture": json])
/// try file.write(to: url)
///
/// let loaded = try SafetensorsFile(contentsOf: url)
/// let kernel = try loaded.tensor(named: "dense.kernel", path: url.path)
/// ```
public struct SafetensorsFile: Sendable, Equatable {
    /// The tensors by name. The name `__metadata__` is reserved by the format.
    public var tensors: [String: Tensor]
    /// The `__metadata__` header entry: free-form string keys and values.
    public var metadata: [String: String]

    /// The largest JSON header accepted when reading or produced when writing, in bytes.
    public static let maximumHeaderLength = 100_000_000

    /// Creates a file from tensors and metadata.
    public init(tensors: [String: Tensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and validates the safetensors file at `url`.
    ///
    /// Throws ``DAEError/fileUnreadable(path:reason:)`` when the file cannot
    /// be read or is not a regular file (a FIFO, a device, a directory), and
    /// ``DAEError/corruptFile(path:reason:)`` when its content is malformed.
    public init(contentsOf url: URL) throws {
        // Read, not mapped: a file truncated by another process while mapped
        // would crash the reader with SIGBUS. Only a regular file is read.
        try self.init(data: RegularFile.read(url), path: url.path)
    }

    /// Parses and validates safetensors bytes; `path` is used only in error messages.
    ///
    /// Never traps on malformed input: every problem throws
    /// ``DAEError/corruptFile(path:reason:)``.
    public init(data: Data, path: String) throws {
        self = try SafetensorsReader(path: path).read(data)
    }

    /// The tensor called `name`, or ``DAEError/missingTensor(name:path:)`` naming `path`.
    public func tensor(named name: String, path: String) throws -> Tensor {
        guard let tensor = tensors[name] else { throw DAEError.missingTensor(name: name, path: path) }
        return tensor
    }

    /// The file's bytes: header length, space-padded JSON header (a multiple
    /// of 8 bytes), then every tensor as little-endian `F32`, in sorted-name
    /// order, packed without gaps.
    ///
    /// Throws ``DAEError/invalidArgument(_:)`` when a tensor is named
    /// `__metadata__` or the header would exceed ``maximumHeaderLength``.
    public func serialized() throws -> Data {
        try SafetensorsWriter.serialize(self)
    }

    /// Writes the file to `url` atomically (see ``AtomicFile/write(_:to:)``):
    /// readers see the old file or the new one, never a partial write.
    ///
    /// Throws ``DAEError/writeFailed(path:reason:)`` when the file cannot be
    /// written, and what ``serialized()`` throws.
    public func write(to url: URL) throws {
        try AtomicFile.write(serialized(), to: url)
    }
}

/// The element types the reader understands.
enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f64 = "F64"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f64: return 8
        case .f16, .bf16: return 2
        }
    }

    /// Decodes `count` little-endian elements from `bytes` (exactly `count * byteSize` bytes) as `Float`.
    ///
    /// Uses unaligned loads: the data section has no alignment guarantee.
    func decode(_ bytes: UnsafeRawBufferPointer, count: Int) -> [Float] {
        switch self {
        case .f32:
            return (0..<count).map { i in
                Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f64:
            return (0..<count).map { i in
                Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
            }
        case .f16:
            return (0..<count).map { i in
                Self.floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            return (0..<count).map { i in
                Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
            }
        }
    }

    /// Converts IEEE 754 binary16 bits to `Float` exactly (every half is representable),
    /// keeping signed zeros, subnormals, infinities and NaN payloads.
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits) & 0x3FF
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }
}
