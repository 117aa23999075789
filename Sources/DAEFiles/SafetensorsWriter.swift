import DAELayers
import Foundation

/// Produces the bytes of a ``SafetensorsFile``: always `F32`, tensors in
/// sorted-name order and packed without gaps, the header's keys sorted, the
/// header padded with spaces to a multiple of 8 bytes.
enum SafetensorsWriter {
    /// Where one tensor goes in the data section.
    private struct Placement {
        var name: String
        var tensor: Tensor
        var begin: Int
        var end: Int
    }

    static func serialize(_ file: SafetensorsFile) throws -> Data {
        let placements = try layOut(file.tensors)
        let header = try headerBytes(placements: placements, metadata: file.metadata)
        let dataSize = placements.last?.end ?? 0
        var output = Data(count: 8 + header.count + dataSize)
        output.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            header.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: raw[8...]).copyMemory(from: $0) }
            let dataSection = UnsafeMutableRawBufferPointer(rebasing: raw[(8 + header.count)...])
            for placement in placements {
                store(placement.tensor, into: dataSection, at: placement.begin)
            }
        }
        return output
    }

    /// Assigns consecutive byte ranges in sorted-name order.
    private static func layOut(_ tensors: [String: Tensor]) throws -> [Placement] {
        var offset = 0
        var placements: [Placement] = []
        placements.reserveCapacity(tensors.count)
        for name in tensors.keys.sorted() {
            guard name != "__metadata__" else {
                throw DAEError.invalidArgument("a tensor cannot be named '__metadata__' in a safetensors file")
            }
            guard let tensor = tensors[name] else { continue }
            let (bytes, overflowBytes) = tensor.count.multipliedReportingOverflow(by: 4)
            let (end, overflowEnd) = offset.addingReportingOverflow(bytes)
            guard !overflowBytes, !overflowEnd else {
                throw DAEError.invalidArgument("safetensors data section too large at tensor '\(name)'")
            }
            placements.append(Placement(name: name, tensor: tensor, begin: offset, end: end))
            offset = end
        }
        return placements
    }

    /// One member of the header: the metadata or a tensor's entry.
    private enum HeaderMember: Encodable {
        case metadata([String: String])
        case tensor(dtype: String, shape: [Int], offsets: [Int])

        private enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case let .metadata(pairs):
                var container = encoder.singleValueContainer()
                try container.encode(pairs)
            case let .tensor(dtype, shape, offsets):
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(dtype, forKey: .dtype)
                try container.encode(shape, forKey: .shape)
                try container.encode(offsets, forKey: .dataOffsets)
            }
        }
    }

    /// The UTF-8 JSON header (sorted keys), padded with spaces to a multiple of 8 bytes.
    private static func headerBytes(placements: [Placement], metadata: [String: String]) throws -> [UInt8] {
        var members: [String: HeaderMember] = [:]
        if !metadata.isEmpty { members["__metadata__"] = .metadata(metadata) }
        for placement in placements {
            members[placement.name] = .tensor(dtype: "F32", shape: placement.tensor.shape, offsets: [placement.begin, placement.end])
        }
        var bytes = [UInt8](try JSONCoding.encoder().encode(members))
        let padding = (8 - bytes.count % 8) % 8
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
        guard bytes.count <= SafetensorsFile.maximumHeaderLength else {
            throw DAEError.invalidArgument(
                "safetensors header would be \(bytes.count) bytes, over the limit of \(SafetensorsFile.maximumHeaderLength)")
        }
        return bytes
    }

    /// Writes the tensor's scalars as little-endian `F32` starting at `offset`.
    private static func store(_ tensor: Tensor, into dataSection: UnsafeMutableRawBufferPointer, at offset: Int) {
        tensor.withUnsafeBufferPointer { scalars in
            for (index, scalar) in scalars.enumerated() {
                dataSection.storeBytes(of: scalar.bitPattern.littleEndian, toByteOffset: offset + 4 * index, as: UInt32.self)
            }
        }
    }
}
