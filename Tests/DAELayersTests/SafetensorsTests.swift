import DAEFiles
import DAELayers
import DAETestSupport
import Foundation
import Testing

// Usage examples and contract checks for `SafetensorsFile` and `AtomicFile`.

// MARK: - Fixtures

/// The committed Keras fixture `Tests/Fixtures/keras-ref-small-gray.safetensors`.
private let referenceURL: URL = ReferenceVectors.smallGray

/// Builds a file by hand: 8-byte header length (`declaredLength` or the real one), header bytes, data.
private func rawFile(header: [UInt8], data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    var bytes = Data()
    withUnsafeBytes(of: (declaredLength ?? UInt64(header.count)).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: header)
    bytes.append(contentsOf: data)
    return bytes
}

private func rawFile(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> Data {
    rawFile(header: Array(header.utf8), data: data, declaredLength: declaredLength)
}

/// Little-endian bytes of fixed-width integers (used for F32/F64/F16/BF16 payloads).
private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

private func f32Bytes(_ values: [Float]) -> [UInt8] {
    littleEndianBytes(values.map(\.bitPattern))
}

/// A one-tensor header entry.
private func entry(_ name: String, dtype: String = "F32", shape: String, offsets: String) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
}

private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("SafetensorsTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func directoryListing(_ url: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
}

/// Expects `bytes` to be rejected with `corruptFile` whose reason contains `expected`.
private func expectCorrupt(_ bytes: Data, mentioning expected: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    let error = #expect(throws: DAEError.self, sourceLocation: sourceLocation) {
        try SafetensorsFile(data: bytes, path: "bad.safetensors")
    }
    guard let error else { return }
    guard case .corruptFile(let path, let reason) = error else {
        Issue.record("expected corruptFile, got \(error)", sourceLocation: sourceLocation)
        return
    }
    #expect(path == "bad.safetensors", sourceLocation: sourceLocation)
    #expect(reason.contains(expected), "reason was: \(reason)", sourceLocation: sourceLocation)
}

/// Bit-exact comparison (NaN payloads and -0 included), which `==` on `Float` is not.
private func expectBitIdentical(_ actual: Tensor?, _ expected: Tensor, _ name: String,
                                sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual?.shape == expected.shape, "\(name) shape", sourceLocation: sourceLocation)
    #expect(actual?.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern),
            "\(name) bits", sourceLocation: sourceLocation)
}

/// A malformed file and a substring its error message must contain.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: Data
    let expected: String
    var testDescription: String { label }
}

private let fourFloats = f32Bytes([1, 2, 3, 4])

private let malformedCases: [MalformedCase] = [
    // Length field
    MalformedCase(label: "shorter than 8 bytes", bytes: Data([1, 2, 3]), expected: "too short"),
    MalformedCase(label: "header length beyond file", bytes: rawFile(header: "{}", declaredLength: 100),
                  expected: "runs past the end of the file"),
    MalformedCase(label: "header length 2^63", bytes: rawFile(header: "{}", declaredLength: 1 << 63),
                  expected: "header length 9223372036854775808"),
    // JSON
    MalformedCase(label: "invalid JSON", bytes: rawFile(header: "{\"a\": "), expected: "not valid JSON"),
    MalformedCase(label: "invalid UTF-8", bytes: rawFile(header: [0x7B, 0x22, 0xFF, 0x22, 0x7D]),
                  expected: "not valid UTF-8"),
    MalformedCase(label: "JSON array instead of object", bytes: rawFile(header: "[]"),
                  expected: "not a JSON object"),
    MalformedCase(label: "data after the JSON object", bytes: rawFile(header: "{} x"),
                  expected: "not valid JSON"),
    MalformedCase(label: "nesting too deep",
                  bytes: rawFile(header: "{\"__metadata__\":" + String(repeating: "[", count: 10_000) + "}"),
                  expected: "not valid JSON (or nests deeper than 512 levels)"),
    // Entries
    MalformedCase(label: "entry not an object", bytes: rawFile(header: "{\"t\":3}"),
                  expected: "tensor 't': entry is 3, not an object"),
    MalformedCase(label: "missing dtype",
                  bytes: rawFile(header: "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", data: f32Bytes([1])),
                  expected: "tensor 't': missing 'dtype'"),
    MalformedCase(label: "unknown dtype",
                  bytes: rawFile(header: "{" + entry("t", dtype: "I64", shape: "[1]", offsets: "[0,8]") + "}",
                                 data: [UInt8](repeating: 0, count: 8)),
                  expected: "tensor 't': unsupported dtype 'I64'"),
    MalformedCase(label: "negative shape entry",
                  bytes: rawFile(header: "{" + entry("t", shape: "[-1]", offsets: "[0,4]") + "}", data: f32Bytes([1])),
                  expected: "tensor 't': shape entry -1 is negative"),
    MalformedCase(label: "fractional shape entry",
                  bytes: rawFile(header: "{" + entry("t", shape: "[1.5]", offsets: "[0,4]") + "}", data: f32Bytes([1])),
                  expected: "shape entry 1.5 is not an integer"),
    MalformedCase(label: "string shape entry",
                  bytes: rawFile(header: "{" + entry("t", shape: "[\"1\"]", offsets: "[0,4]") + "}", data: f32Bytes([1])),
                  expected: "shape entry the string \"1\" is not an integer"),
    MalformedCase(label: "boolean shape entry",
                  bytes: rawFile(header: "{" + entry("t", shape: "[true]", offsets: "[0,4]") + "}", data: f32Bytes([1])),
                  expected: "shape entry true is not an integer"),
    MalformedCase(label: "shape entry beyond Int",
                  bytes: rawFile(header: "{" + entry("t", shape: "[99999999999999999999]", offsets: "[0,4]") + "}",
                                 data: f32Bytes([1])),
                  expected: "shape entry 1e+20 is too large"),
    MalformedCase(label: "offsets not two integers",
                  bytes: rawFile(header: "{" + entry("t", shape: "[1]", offsets: "[0]") + "}", data: f32Bytes([1])),
                  expected: "'data_offsets' must be an array of two integers"),
    MalformedCase(label: "offsets out of range",
                  bytes: rawFile(header: "{" + entry("t", shape: "[100]", offsets: "[0,400]") + "}", data: fourFloats),
                  expected: "data_offsets [0,400] run past the end of the data section (16 bytes)"),
    MalformedCase(label: "begin after end",
                  bytes: rawFile(header: "{" + entry("t", shape: "[1]", offsets: "[8,4]") + "}", data: fourFloats),
                  expected: "data_offsets [8,4] begin after their end"),
    MalformedCase(label: "shape not matching byte span",
                  bytes: rawFile(header: "{" + entry("encoder.conv0.kernel", shape: "[3,3,1,32]", offsets: "[0,1148]") + "}",
                                 data: [UInt8](repeating: 0, count: 1148)),
                  expected: "tensor 'encoder.conv0.kernel': shape [3,3,1,32] needs 1152 bytes but data_offsets span 1148"),
    MalformedCase(label: "overflowing shape product",
                  bytes: rawFile(header: "{" + entry("t", shape: "[1099511627776,1099511627776]", offsets: "[0,4]") + "}",
                                 data: f32Bytes([1])),
                  expected: "element count overflows"),
    MalformedCase(label: "overflowing byte count",
                  bytes: rawFile(header: "{" + entry("t", dtype: "F64", shape: "[2305843009213693952]", offsets: "[0,4]") + "}",
                                 data: f32Bytes([1])),
                  expected: "byte count overflows"),
    // Layout of the data section
    MalformedCase(label: "overlapping tensors",
                  bytes: rawFile(header: "{" + entry("a", shape: "[2]", offsets: "[0,8]") + ","
                                 + entry("b", shape: "[2]", offsets: "[4,12]") + "}",
                                 data: f32Bytes([1, 2, 3])),
                  expected: "tensor 'b': data_offsets [4,12] overlap tensor 'a'"),
    MalformedCase(label: "gap between tensors",
                  bytes: rawFile(header: "{" + entry("a", shape: "[1]", offsets: "[0,4]") + ","
                                 + entry("b", shape: "[1]", offsets: "[8,12]") + "}",
                                 data: f32Bytes([1, 2, 3])),
                  expected: "tensor 'b': data_offsets [8,12] leave a gap of 4 bytes"),
    MalformedCase(label: "gap before the first tensor",
                  bytes: rawFile(header: "{" + entry("a", shape: "[1]", offsets: "[4,8]") + "}", data: f32Bytes([1, 2])),
                  expected: "gap of 4 bytes (the data section starts at byte 0)"),
    MalformedCase(label: "trailing data",
                  bytes: rawFile(header: "{" + entry("a", shape: "[1]", offsets: "[0,4]") + "}", data: f32Bytes([1, 2])),
                  expected: "4 trailing bytes"),
    // Names and metadata
    MalformedCase(label: "duplicate names",
                  bytes: rawFile(header: "{" + entry("a", shape: "[1]", offsets: "[0,4]") + ","
                                 + entry("a", shape: "[1]", offsets: "[4,8]") + "}",
                                 data: f32Bytes([1, 2])),
                  expected: "4 trailing bytes"), // one 'a' survives; the other's bytes belong to no tensor
    MalformedCase(label: "duplicate names, one escaped",
                  bytes: rawFile(header: "{" + entry("a", shape: "[1]", offsets: "[0,4]") + ","
                                 + entry("\\u0061", shape: "[1]", offsets: "[4,8]") + "}",
                                 data: f32Bytes([1, 2])),
                  expected: "4 trailing bytes"),
    MalformedCase(label: "non-string metadata value", bytes: rawFile(header: "{\"__metadata__\":{\"epochs\":3}}"),
                  expected: "'__metadata__' value for key 'epochs' is 3, not a string"),
    MalformedCase(label: "metadata not an object", bytes: rawFile(header: "{\"__metadata__\":\"x\"}"),
                  expected: "'__metadata__' is the string \"x\", not an object"),
]

// MARK: - Tests

@Suite("Safetensors reading and writing")
struct SafetensorsTests {

    // MARK: Round trip

    @Test("Round trip keeps names, shapes, metadata and every float bit")
    func roundTrip() throws {
        let special: [Float] = [
            -0.0, 0.0, .leastNonzeroMagnitude, -.leastNormalMagnitude.nextDown, .infinity, -.infinity,
            .greatestFiniteMagnitude, Float(bitPattern: 0x7FC0_1234), 1.0 / 3.0,
        ]
        let original = SafetensorsFile(
            tensors: [
                "encoder.conv0.kernel": Tensor(shape: [3, 3], scalars: special),
                "loss": Tensor(shape: [], scalars: [0.189_18]),
                "empty": Tensor(shape: [0, 4], scalars: []),
                "also.empty": Tensor(shape: [2, 0], scalars: []),
                "名前 \"quoted\" \\ \n\u{1}": Tensor(shape: [1], scalars: [7]),
            ],
            metadata: ["architecture": "{\"latent_dim\": 16}", "note": "tab\there, ünïcødé, \u{7}"])

        let restored = try SafetensorsFile(data: try original.serialized(), path: "memory")

        #expect(restored.metadata == original.metadata)
        #expect(Set(restored.tensors.keys) == Set(original.tensors.keys))
        for (name, tensor) in original.tensors {
            expectBitIdentical(restored.tensors[name], tensor, name)
        }
    }

    @Test("Bytes inside a larger buffer (a Data slice) parse the same")
    func parsesDataSlice() throws {
        let file = SafetensorsFile(tensors: ["x": Tensor(shape: [3], scalars: [1, 2, 3])])
        let padded = Data([0xAA, 0xBB, 0xCC]) + (try file.serialized())
        #expect(try SafetensorsFile(data: padded.dropFirst(3), path: "slice") == file)
    }

    @Test("An empty file (no tensors, no metadata) round-trips")
    func emptyRoundTrip() throws {
        let bytes = try SafetensorsFile().serialized()
        #expect(bytes.count == 16)  // length field + "{}" padded to 8
        #expect(try SafetensorsFile(data: bytes, path: "memory") == SafetensorsFile())
    }

    @Test("Byte layout: padded header, sorted names, packed little-endian data")
    func byteLayout() throws {
        let file = SafetensorsFile(
            tensors: ["b": Tensor(shape: [1], scalars: [1]),
                      "a": Tensor(shape: [2], scalars: [2, -0.0]),
                      "c": Tensor(shape: [], scalars: [3])],
            metadata: ["k": "v"])
        let bytes = [UInt8](try file.serialized())

        let headerLength = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(headerLength % 8 == 0)
        let header = try #require(String(bytes: bytes[8..<(8 + headerLength)], encoding: .utf8))
        #expect(header.hasPrefix("{\"__metadata__\":{\"k\":\"v\"},\"a\":"))
        #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))

        let json = try #require(JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        let offsets = ["a", "b", "c"].map { ((json[$0] as? [String: Any])?["data_offsets"] as? [Int]) ?? [] }
        #expect(offsets == [[0, 8], [8, 12], [12, 16]])
        #expect(Array(bytes[(8 + headerLength)...]) == f32Bytes([2, -0.0, 1, 3]))
    }

    @Test("Deliberately accepted (JSONCoding's policy): integral numbers such as 1.0, a field or metadata key given twice")
    func acceptedByPolicy() throws {
        // 1.0 and 1e0 are the integer 1: the value is exact and every layout check still applies.
        let integral = try SafetensorsFile(
            data: rawFile(header: "{" + entry("t", shape: "[1.0]", offsets: "[0,4e0]") + "}", data: f32Bytes([1])), path: "memory")
        #expect(integral.tensors["t"]?.shape == [1])
        // A field given twice keeps one value, which must pass the layout checks like any other.
        let twice = try SafetensorsFile(
            data: rawFile(header: "{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                          data: f32Bytes([1])), path: "memory")
        #expect(twice.tensors["t"]?.scalars == [1])
        let metadata = try SafetensorsFile(data: rawFile(header: "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"), path: "memory")
        #expect(metadata.metadata.count == 1)
    }

    @Test("A header with extra whitespace, unknown fields and zero-size tensors at one offset is accepted")
    func lenientWhereHarmless() throws {
        let header = " { \"__metadata__\" : { } , "
            + "\"e1\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"comment\":[1,{\"x\":null}]},"
            + entry("e2", shape: "[3,0]", offsets: "[0,0]") + ","
            + entry("w", shape: "[1]", offsets: "[0,4]") + ","
            + entry("e3", shape: "[0]", offsets: "[4,4]") + "}\n  \t"
        let file = try SafetensorsFile(data: rawFile(header: header, data: f32Bytes([5])), path: "memory")
        #expect(file.tensors.count == 4)
        #expect(file.tensors["w"]?.scalars == [5])
        #expect(file.tensors["e2"]?.shape == [3, 0])
    }

    // MARK: Reference file

    @Test("Reads a file written by Python's safetensors (the Keras fixture)")
    func readsReferenceFile() throws {
        let file = try SafetensorsFile(contentsOf: referenceURL)
        #expect(file.tensors.count == 52)
        #expect(file.tensors["loss"]?.shape == [])
        let loss = try #require(file.tensors["loss"]?.scalars.first)
        #expect(abs(loss - 0.176_111) < 1e-5)
        let kernel = try file.tensor(named: "encoder.conv0.kernel", path: referenceURL.path)
        #expect(kernel.shape == [3, 3, 1, 8])
        #expect(kernel.count == 72)
        #expect(file.metadata["architecture"]?.contains("layer_filters") == true)

        // Writing it back and reading that again changes nothing.
        let again = try SafetensorsFile(data: try file.serialized(), path: "memory")
        #expect(again == file)
    }

    @Test("A missing tensor and a missing file have their own errors")
    func missingThings() throws {
        let file = SafetensorsFile(tensors: ["a": Tensor(shape: [], scalars: [1])])
        #expect(throws: DAEError.missingTensor(name: "b", path: "x.safetensors")) {
            try file.tensor(named: "b", path: "x.safetensors")
        }
        let nowhere = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/w.safetensors")
        let error = #expect(throws: DAEError.self) { try SafetensorsFile(contentsOf: nowhere) }
        guard case .fileUnreadable(let path, _)? = error else {
            Issue.record("expected fileUnreadable, got \(String(describing: error))")
            return
        }
        #expect(path == nowhere.path)
    }

    @Test("A tensor named __metadata__ cannot be written")
    func reservedName() {
        let file = SafetensorsFile(tensors: ["__metadata__": Tensor(shape: [], scalars: [1])])
        #expect(throws: DAEError.self) { try file.serialized() }
    }

    // MARK: Other dtypes

    @Test("F64, F16 and BF16 tensors are converted to Float")
    func convertsOtherDTypes() throws {
        let f64: [Double] = [1.5, -2.25, 1e300, 1e-50]
        let f16: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7C00, 0x7BFF, 0x8000, 0x03FF, 0x7E00]
        let bf16: [UInt16] = [0x3F80, 0xC040, 0xFF80, 0x0001]
        let header = "{"
            + entry("double", dtype: "F64", shape: "[2,2]", offsets: "[0,32]") + ","
            + entry("half", dtype: "F16", shape: "[8]", offsets: "[32,48]") + ","
            + entry("brain", dtype: "BF16", shape: "[4]", offsets: "[48,56]") + "}"
        let data = littleEndianBytes(f64.map(\.bitPattern)) + littleEndianBytes(f16) + littleEndianBytes(bf16)
        let file = try SafetensorsFile(data: rawFile(header: header, data: data), path: "memory")

        #expect(file.tensors["double"] == Tensor(shape: [2, 2], scalars: [1.5, -2.25, .infinity, 0]))

        let half = try #require(file.tensors["half"]?.scalars)
        #expect(half.prefix(7).map(\.bitPattern) == ([1, -2, 0x1p-24, .infinity, 65504, -0.0, 1023 * 0x1p-24] as [Float]).map(\.bitPattern))
        #expect(half[7].isNaN)

        #expect(file.tensors["brain"]?.scalars.map(\.bitPattern)
                == ([1, -3, -.infinity, Float(bitPattern: 0x0001_0000)] as [Float]).map(\.bitPattern))
    }

    // MARK: Malformed input

    @Test("Malformed input is rejected as corrupt with a telling message", arguments: malformedCases)
    func rejectsMalformed(_ malformed: MalformedCase) {
        expectCorrupt(malformed.bytes, mentioning: malformed.expected)
    }

    @Test("Every truncation and every bit flip of a valid file is handled without crashing")
    func survivesMutations() throws {
        let valid = try SafetensorsFile(
            tensors: ["a": Tensor(shape: [2], scalars: [1, 2]), "b": Tensor(shape: [], scalars: [3])],
            metadata: ["k": "v"]).serialized()
        for length in 0..<valid.count {
            #expect(throws: DAEError.self) { try SafetensorsFile(data: valid.prefix(length), path: "cut") }
        }
        for index in valid.indices {
            for bit in 0..<8 {
                var mutated = valid
                mutated[index] ^= 1 << bit
                // Either outcome is fine; only a DAEError may escape.
                do { _ = try SafetensorsFile(data: mutated, path: "flip") } catch is DAEError {}
            }
        }
    }

    // MARK: Atomic write

    @Test("Writing into a missing directory fails cleanly")
    func writeIntoMissingDirectory() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let target = scratch.appendingPathComponent("missing/w.safetensors")

        let error = #expect(throws: DAEError.self) { try SafetensorsFile().write(to: target) }
        guard case .writeFailed(let path, let reason)? = error else {
            Issue.record("expected writeFailed, got \(String(describing: error))")
            return
        }
        #expect(path == target.path)
        #expect(reason.contains("No such file or directory"))
        #expect(try directoryListing(scratch).isEmpty)
    }

    @Test("Overwriting replaces the file, keeps its permissions and leaves no temporary file")
    func overwrite() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let target = scratch.appendingPathComponent("w.safetensors")
        try AtomicFile.write(Data("old content".utf8), to: target)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target.path)

        let file = SafetensorsFile(tensors: ["w": Tensor(shape: [2], scalars: [1, 2])], metadata: ["epoch": "3"])
        try file.write(to: target)

        #expect(try SafetensorsFile(contentsOf: target) == file)
        #expect(try directoryListing(scratch) == ["w.safetensors"])
        let permissions = try FileManager.default.attributesOfItem(atPath: target.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
    }

    @Test("A write removes the target's temporary files left by dead writers, and only those")
    func staleTemporariesRemoved() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        // A pid no process can have (above the kernel's pid_max): a writer killed before its rename.
        let dead = Int32.max
        let leftovers = [
            ".w.safetensors.tmp-\(dead)-1f2e",                       // the target's, dead writer: removed
            ".w.safetensors.tmp-\(getpid())-3c4d",                   // this process's (a writer in progress): kept
            ".other.safetensors.tmp-\(dead)-5a6b",                   // another file's: kept
            ".w.safetensors.tmp-notapid-7e8f",                        // not ours to judge: kept
        ]
        for name in leftovers { try Data("partial".utf8).write(to: scratch.appendingPathComponent(name)) }

        try AtomicFile.write(Data("new".utf8), to: scratch.appendingPathComponent("w.safetensors"))

        #expect(try Set(directoryListing(scratch)) == Set(["w.safetensors"] + leftovers.dropFirst()))
    }

    @Test("A failed rename leaves the old target untouched and no temporary file")
    func failedRename() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        // A non-empty directory where the file should go: rename(2) must fail.
        let target = scratch.appendingPathComponent("w.safetensors")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))

        let error = #expect(throws: DAEError.self) { try AtomicFile.write(Data("new".utf8), to: target) }
        guard case .writeFailed(_, let reason)? = error else {
            Issue.record("expected writeFailed, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("rename"))
        #expect(try directoryListing(scratch) == ["w.safetensors"])
        #expect(try directoryListing(target) == ["inside"])
    }
}
