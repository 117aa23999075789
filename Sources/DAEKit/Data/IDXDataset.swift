import DAELayers
import Foundation

/// A directory in the MNIST layout: training and test images, with optional labels.
///
/// The directory holds these files, each plain or gzip-compressed (`.gz`;
/// a directory holding both forms of one file is refused as ambiguous):
///
/// - `train-images-idx3-ubyte`, `t10k-images-idx3-ubyte` (required)
/// - `train-labels-idx1-ubyte`, `t10k-labels-idx1-ubyte` (optional)
///
/// MNIST, Fashion-MNIST and KMNIST ship in this layout.
///
/// ```swift
/// let data = try IDXDataset(directory: IDXDataset.fashionMNISTDirectory)
/// data.train.count        // 60000
/// data.test.imageShape    // [28, 28, 1]
/// ```
public struct IDXDataset: Sendable {
    /// The training images (and labels, when present).
    public let train: ImageDataset
    /// The test images (and labels, when present).
    public let test: ImageDataset
    /// The directory the files were read from.
    public let directory: URL

    /// Where Debian's `dataset-fashion-mnist` package installs Fashion-MNIST.
    public static let fashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// The file names (without `.gz`) of the four files, in the MNIST layout.
    public enum FileName {
        /// `train-images-idx3-ubyte`
        public static let trainImages = "train-images-idx3-ubyte"
        /// `t10k-images-idx3-ubyte`
        public static let testImages = "t10k-images-idx3-ubyte"
        /// `train-labels-idx1-ubyte`
        public static let trainLabels = "train-labels-idx1-ubyte"
        /// `t10k-labels-idx1-ubyte`
        public static let testLabels = "t10k-labels-idx1-ubyte"
    }

    /// The two halves of a data set in the MNIST layout.
    public enum Part: String, Sendable, CaseIterable {
        /// `train-images-idx3-ubyte` and `train-labels-idx1-ubyte`.
        case train
        /// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`.
        case test

        /// The image and label file names (without `.gz`).
        var fileNames: (images: String, labels: String) {
            switch self {
            case .train: return (FileName.trainImages, FileName.trainLabels)
            case .test: return (FileName.testImages, FileName.testLabels)
            }
        }
    }

    /// Loads the training and test sets from `directory`, at most
    /// `trainLimit` and `testLimit` images of each (only that much of a
    /// compressed file is decompressed).
    ///
    /// - Throws: `DAEError/fileUnreadable(path:reason:)` when the directory
    ///   or an image file is missing, or a file exists both plain and as
    ///   `.gz` (the message names the file and the directory), and any error
    ///   of ``IDXFile/init(contentsOf:maximumItems:)`` or ``ImageDataset/init(images:labels:)``.
    public init(directory: URL, trainLimit: Int? = nil, testLimit: Int? = nil) throws {
        self.directory = directory
        train = try IDXDataset.load(.train, from: directory, limit: trainLimit)
        test = try IDXDataset.load(.test, from: directory, limit: testLimit)
    }

    /// Loads one part of the data set in `directory`, at most `limit` images
    /// of it, and reads nothing of the other part: a command that needs only
    /// the test images never decompresses the training images.
    ///
    /// ```swift
    /// let test = try IDXDataset.load(.test, from: IDXDataset.fashionMNISTDirectory, limit: 1000)
    /// ```
    public static func load(_ part: Part, from directory: URL, limit: Int? = nil) throws -> ImageDataset {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue
        else {
            throw DAEError.fileUnreadable(path: directory.path, reason: "no such directory")
        }
        let (images, labels) = part.fileNames
        guard let imagesURL = try find(images, in: directory) else {
            throw DAEError.fileUnreadable(
                path: directory.appendingPathComponent(images).path,
                reason: "missing: neither \(images) nor \(images).gz is in \(directory.path)")
        }
        let labelFile = try find(labels, in: directory).map { try IDXFile(contentsOf: $0, maximumItems: limit) }
        return try ImageDataset(images: IDXFile(contentsOf: imagesURL, maximumItems: limit), labels: labelFile)
    }

    /// `name` or `name.gz` in `directory`, or nil when neither exists.
    ///
    /// - Throws: `DAEError/fileUnreadable(path:reason:)` when both exist: which
    ///   one holds the intended data cannot be known, so neither is guessed.
    private static func find(_ name: String, in directory: URL) throws -> URL? {
        let plain = directory.appendingPathComponent(name), compressed = directory.appendingPathComponent(name + ".gz")
        let hasPlain = FileManager.default.fileExists(atPath: plain.path)
        let hasCompressed = FileManager.default.fileExists(atPath: compressed.path)
        if hasPlain && hasCompressed {
            throw DAEError.fileUnreadable(
                path: plain.path, reason: "ambiguous: both \(name) and \(name).gz are in \(directory.path); "
                    + "remove or rename one of them")
        }
        return hasCompressed ? compressed : hasPlain ? plain : nil
    }
}
