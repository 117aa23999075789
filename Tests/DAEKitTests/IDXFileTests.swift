import DAEKit
import DAELayers
import Foundation
import Testing

/// Reading IDX files: what a well-formed file gives, and how every kind of broken file is refused.
@Suite("IDX files")
struct IDXFileTests {
    /// Two 3×4 images with distinct byte values, including 0 and 255.
    static let pixels: [UInt8] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                  128, 254, 255, 17, 18, 19, 20, 21, 22, 23, 24, 25]

    @Test("a plain file round-trips its dimensions and bytes")
    func plainRoundTrip() throws {
        let file = try IDXFile(data: Data(IDXWriter.encode(dimensions: [2, 3, 4], payload: Self.pixels)), path: "x.idx")
        #expect(file.dimensions == [2, 3, 4])
        #expect(file.bytes == Self.pixels)
        #expect(file.path == "x.idx")
    }

    @Test("a gzip file is detected by its magic bytes, not its name")
    func gzipRoundTrip() throws {
        try withTemporaryDirectory { directory in
            let compressed = IDXWriter.gzip(IDXWriter.encode(dimensions: [2, 3, 4], payload: Self.pixels))
            let url = try IDXWriter.write(compressed, named: "no-gz-suffix", in: directory)
            let file = try IDXFile(contentsOf: url)
            #expect(file.dimensions == [2, 3, 4])
            #expect(file.bytes == Self.pixels)
        }
    }

    @Test("a gzip file of several members reads as one stream, like gzip -d")
    func concatenatedGzipMembers() throws {
        let encoded = IDXWriter.encode(dimensions: [2, 3, 4], payload: Self.pixels)
        let data = IDXWriter.gzip(Array(encoded.prefix(10))) + IDXWriter.gzip(Array(encoded.dropFirst(10)))
        let file = try IDXFile(data: Data(data), path: "two-members.gz")
        #expect(file.bytes == Self.pixels)
    }

    @Test("a label file is rank 1")
    func labels() throws {
        let file = try IDXFile(data: Data(IDXWriter.encode(dimensions: [5], payload: [3, 1, 4, 1, 5])), path: "labels")
        #expect(file.dimensions == [5])
        #expect(file.bytes == [3, 1, 4, 1, 5])
    }

    @Test("a missing file is reported with its path")
    func missingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-dir/train-images-idx3-ubyte.gz")
        let error = #expect(throws: DAEError.self) { try IDXFile(contentsOf: url) }
        #expect(error == .fileUnreadable(path: url.path, reason: "no such file"))
        #expect(error?.description.contains("/nonexistent-dir/train-images-idx3-ubyte.gz") == true)
    }

    @Test("an error from a file on disk names the file")
    func errorNamesTheFileOnDisk() throws {
        try withTemporaryDirectory { directory in
            let url = try IDXWriter.write(IDXWriter.encode(dimensions: [2, 3, 4], payload: [1, 2, 3]),
                                          named: "train-images-idx3-ubyte", in: directory)
            let error = #expect(throws: DAEError.self) { try IDXFile(contentsOf: url) }
            #expect(error?.description == "\(url.path): corrupt file: header claims 2x3x4 = 24 bytes but the file holds 3 (truncated)")
        }
    }

    /// A broken file and the words its error message must contain.
    struct Malformed: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let expected: [String]
        var testDescription: String { name }
    }

    static let good = IDXWriter.encode(dimensions: [2, 3, 4], payload: pixels)
    static let goodGzip = IDXWriter.gzip(good)

    static let malformed: [Malformed] = [
        Malformed(name: "empty file", bytes: [], expected: ["too short for an IDX header"]),
        Malformed(name: "wrong magic", bytes: [0x50, 0x4B, 0x03, 0x04] + Array(good.dropFirst(4)),
                  expected: ["bad magic number 0x504b0304"]),
        Malformed(name: "float32 type byte", bytes: IDXWriter.encode(dimensions: [2, 3, 4], payload: pixels, typeByte: 0x0D),
                  expected: ["unsupported element type 0x0d", "float32", "only unsigned bytes"]),
        Malformed(name: "rank 0", bytes: IDXWriter.encode(dimensions: [], payload: [1]), expected: ["unsupported rank 0"]),
        Malformed(name: "rank 5", bytes: IDXWriter.encode(dimensions: [1, 1, 1, 1, 1], payload: [1]),
                  expected: ["unsupported rank 5"]),
        Malformed(name: "header cut short", bytes: Array(good.prefix(9)), expected: ["ends inside the header"]),
        Malformed(name: "zero dimension", bytes: IDXWriter.encode(dimensions: [2, 0, 4], payload: []),
                  expected: ["2x0x4", "dimension 1 is zero"]),
        Malformed(name: "overflowing dimensions",
                  bytes: IDXWriter.encode(dimensions: Array(repeating: 0xFFFF_FFFF, count: 4), payload: [1, 2]),
                  expected: ["4294967295x4294967295x4294967295x4294967295", "overflows"]),
        Malformed(name: "truncated payload", bytes: Array(good.dropLast(5)),
                  expected: ["header claims 2x3x4 = 24 bytes but the file holds 19 (truncated)"]),
        Malformed(name: "trailing data", bytes: good + [9, 9],
                  expected: ["header claims 2x3x4 = 24 bytes but the file holds 26 (trailing data)"]),
        Malformed(name: "40-byte file claiming 10^12 elements",
                  bytes: IDXWriter.encode(dimensions: [1_000_000, 1_000_000], payload: Array(repeating: 7, count: 28)),
                  expected: ["1000000x1000000 = 1000000000000 bytes but the file holds 28"]),
        Malformed(name: "gzip: truncated payload", bytes: IDXWriter.gzip(Array(good.dropLast(5))),
                  expected: ["holds 19 (truncated)"]),
        Malformed(name: "gzip: trailing data", bytes: IDXWriter.gzip(good + [9]), expected: ["holds more (trailing data)"]),
        Malformed(name: "gzip: invalid deflate data", bytes: Array(goodGzip.prefix(10)) + Array(repeating: 0xFF, count: 30),
                  expected: ["corrupt gzip data", "invalid block type"]),
        Malformed(name: "gzip: wrong checksum", bytes: Array(goodGzip.dropLast(8)) + [0, 0, 0, 0] + Array(goodGzip.suffix(4)),
                  expected: ["corrupt gzip data", "incorrect data check"]),
        Malformed(name: "gzip: stream ends inside the payload", bytes: Array(goodGzip.prefix(goodGzip.count / 2)),
                  expected: ["gzip stream ends early"]),
        Malformed(name: "gzip: stream ends before its trailer", bytes: Array(goodGzip.dropLast(3)),
                  expected: ["gzip stream ends early"]),
        Malformed(name: "gzip: only the magic bytes", bytes: [0x1F, 0x8B], expected: ["gzip stream ends early"]),
        Malformed(name: "gzip: garbage after the stream", bytes: goodGzip + [1, 2, 3],
                  expected: ["3 bytes of trailing garbage after the gzip stream"]),
        Malformed(name: "gzip: 10^12 elements claimed",
                  bytes: IDXWriter.gzip(IDXWriter.encode(dimensions: [1_000_000, 1_000_000], payload: [1, 2, 3])),
                  expected: ["1000000000000 bytes, more than the limit"]),
        Malformed(name: "gzip: 10^9 elements claimed, few present",
                  bytes: IDXWriter.gzip(IDXWriter.encode(dimensions: [1_000, 1_000_000], payload: [1, 2, 3])),
                  expected: ["1000x1000000 = 1000000000 bytes but the file holds 3 (truncated)"]),
    ]

    @Test("a malformed file throws a corrupt-file error naming the file and the problem", arguments: malformed)
    func malformedFileThrows(_ sample: Malformed) throws {
        let path = "fixtures/\(sample.name).idx"
        let error = try #require(throws: DAEError.self) { try IDXFile(data: Data(sample.bytes), path: path) }
        guard case let .corruptFile(errorPath, _) = error else {
            Issue.record("expected corruptFile, got \(error)")
            return
        }
        #expect(errorPath == path)
        #expect(error.description.hasPrefix("\(path): corrupt file: "))
        for words in sample.expected {
            #expect(error.description.contains(words), "\(error.description) should mention \"\(words)\"")
        }
    }

    @Test("an in-memory IDX file checks that its bytes match its dimensions")
    func inMemoryInitializer() throws {
        #expect(try IDXFile(dimensions: [2, 2], bytes: [1, 2, 3, 4]).dimensions == [2, 2])
        #expect(throws: DAEError.self) { try IDXFile(dimensions: [2, 2], bytes: [1, 2, 3]) }
        #expect(throws: DAEError.self) { try IDXFile(dimensions: [], bytes: []) }
    }
}

/// Turning IDX files into image data sets and float batches.
@Suite("Image data sets")
struct ImageDatasetTests {
    static let imageFile = try? IDXFile(dimensions: [2, 3, 4], bytes: IDXFileTests.pixels, path: "images")
    static let labelFile = try? IDXFile(dimensions: [2], bytes: [7, 3], path: "labels")

    @Test("rank-3 images have one channel, and batches are byte / 255 as floats")
    func batchesAreScaledBytes() throws {
        let data = try ImageDataset(images: #require(Self.imageFile), labels: Self.labelFile)
        #expect(data.count == 2)
        #expect(data.imageShape == [3, 4, 1])
        #expect(data.labels == [7, 3])

        let batch = data.batch([1, 0, 1])
        #expect(batch.shape == [3, 3, 4, 1])
        let expected = (IDXFileTests.pixels[12...] + IDXFileTests.pixels[..<12] + IDXFileTests.pixels[12...])
            .map { Float($0) / 255 }
        #expect(batch.scalars == expected)
        #expect(batch.scalars[1] == Float(254) / 255 && batch.scalars[2] == 1)   // bytes 254 and 255
        #expect(data.labels(at: [1, 0]) == [3, 7])
    }

    @Test("fill writes the same floats into caller-owned memory")
    func fillMatchesBatch() throws {
        let data = try ImageDataset(images: #require(Self.imageFile), labels: nil)
        var buffer = [Float](repeating: -1, count: 2 * data.pixelsPerImage + 1)
        buffer.withUnsafeMutableBufferPointer { pointer in
            if let base = pointer.baseAddress { data.fill([1, 0], into: base) }
        }
        #expect(Array(buffer.prefix(24)) == data.batch([1, 0]).scalars)
        #expect(buffer[24] == -1, "nothing written past the requested images")
        #expect(data.allImagesTensor() == data.batch(0..<2))
    }

    @Test("rank-4 images keep their last dimension as channels")
    func rank4HasChannels() throws {
        let file = try IDXFile(dimensions: [2, 2, 2, 3], bytes: Array(0..<24), path: "rgb")
        let data = try ImageDataset(images: file, labels: nil)
        #expect(data.imageShape == [2, 2, 3])
        #expect(data.batch([1]).scalars == (12..<24).map { Float($0) / 255 })
    }

    @Test("prefix keeps the first images and labels, clamped to the data set")
    func prefixKeepsTheFirstImages() throws {
        let data = try ImageDataset(images: #require(Self.imageFile), labels: Self.labelFile)
        #expect(data.prefix(1).count == 1)
        #expect(data.prefix(1).labels == [7])
        #expect(data.prefix(1).allImagesTensor() == data.batch([0]))
        #expect(data.prefix(99) == data)
        #expect(data.prefix(-1).count == 0)
        #expect(data.prefix(0).allImagesTensor().shape == [0, 3, 4, 1])
    }

    @Test("labels must be rank 1 and as many as the images")
    func labelMismatchThrows() throws {
        let images = try #require(Self.imageFile)
        let three = try IDXFile(dimensions: [3], bytes: [1, 2, 3], path: "three-labels")
        let error = #expect(throws: DAEError.self) { try ImageDataset(images: images, labels: three) }
        #expect(error?.description == "three-labels: corrupt file: holds 3 labels but images holds 2 images")
        let notImages = try IDXFile(dimensions: [2, 12], bytes: IDXFileTests.pixels, path: "flat")
        let rankError = #expect(throws: DAEError.self) { try ImageDataset(images: notImages, labels: nil) }
        #expect(rankError?.description.contains("flat: corrupt file: images must have rank 3") == true)
    }

    @Test("raw pixels must match the stated sizes")
    func rawPixelsAreChecked() throws {
        #expect(try ImageDataset(pixels: [1, 2, 3, 4], count: 1, height: 2, width: 2, channels: 1).count == 1)
        #expect(throws: DAEError.self) { try ImageDataset(pixels: [1, 2, 3], count: 1, height: 2, width: 2, channels: 1) }
        #expect(throws: DAEError.self) { try ImageDataset(pixels: [], count: 0, height: 0, width: 2, channels: 1) }
        #expect(throws: DAEError.self) {
            try ImageDataset(pixels: [1, 2, 3, 4], count: 1, height: 2, width: 2, channels: 1, labels: [1, 2])
        }
        #expect(throws: DAEError.self) {
            try ImageDataset(pixels: [], count: Int.max, height: Int.max, width: 2, channels: 1)
        }
    }
}

/// Loading a directory in the MNIST layout.
@Suite("IDX directories")
struct IDXDatasetTests {
    @Test("a directory of plain and gzip files loads train and test sets; labels are optional")
    func loadsADirectory() throws {
        try withTemporaryDirectory { directory in
            let train = IDXWriter.encode(dimensions: [3, 2, 2], payload: Array(0..<12))
            try IDXWriter.write(IDXWriter.gzip(train), named: "train-images-idx3-ubyte.gz", in: directory)
            try IDXWriter.write(IDXWriter.encode(dimensions: [3], payload: [0, 1, 2]), named: "train-labels-idx1-ubyte", in: directory)
            try IDXWriter.write(IDXWriter.encode(dimensions: [1, 2, 2], payload: [9, 9, 9, 9]),
                                named: "t10k-images-idx3-ubyte", in: directory)

            let data = try IDXDataset(directory: directory)
            #expect(data.directory == directory)
            #expect(data.train.count == 3 && data.train.imageShape == [2, 2, 1])
            #expect(data.train.labels == [0, 1, 2])
            #expect(data.test.count == 1 && data.test.labels == nil)
        }
    }

    @Test("a missing image file is named together with its directory")
    func missingImagesAreNamed() throws {
        try withTemporaryDirectory { directory in
            try IDXWriter.write(IDXWriter.encode(dimensions: [1, 2, 2], payload: [1, 2, 3, 4]),
                                named: "train-images-idx3-ubyte", in: directory)
            let error = #expect(throws: DAEError.self) { try IDXDataset(directory: directory) }
            let message = error?.description ?? ""
            #expect(message.contains("t10k-images-idx3-ubyte"), "\(message)")
            #expect(message.contains("missing: neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz is in \(directory.path)"))

            let nowhere = directory.appendingPathComponent("absent")
            let dirError = #expect(throws: DAEError.self) { try IDXDataset(directory: nowhere) }
            #expect(dirError == .fileUnreadable(path: nowhere.path, reason: "no such directory"))
        }
    }

    @Test("Fashion-MNIST from Debian's dataset-fashion-mnist package",
          .enabled(if: FileManager.default.fileExists(atPath: IDXDataset.fashionMNISTDirectory.path),
                   "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"))
    func fashionMNIST() throws {
        let data = try IDXDataset(directory: IDXDataset.fashionMNISTDirectory)
        #expect(data.train.count == 60_000)
        #expect(data.test.count == 10_000)
        #expect(data.train.imageShape == [28, 28, 1])
        #expect(data.test.imageShape == [28, 28, 1])
        let trainLabels = try #require(data.train.labels)
        let testLabels = try #require(data.test.labels)
        #expect(trainLabels.allSatisfy { $0 < 10 } && testLabels.allSatisfy { $0 < 10 })
        let batch = data.test.batch(0..<4)
        #expect(batch.shape == [4, 28, 28, 1])
        #expect(batch.scalars.allSatisfy { (0...1).contains($0) })
        #expect(batch.scalars.contains { $0 > 0 })
    }
}
