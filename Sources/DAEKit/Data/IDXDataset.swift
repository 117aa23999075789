import DAELayers
import Foundation

/// A directory in the MNIST layout: training and test images, with optional labels.
///
/// The directory holds these files, each plain or gzip-compressed (`.gz`,
/// preferred when both exist):
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

    /// Loads the training and test sets from `directory`.
    ///
    /// - Throws: `DAEError/fileUnreadable(path:reason:)` when the directory
    ///   or an image file is missing (the message names the file and the
    ///   directory), and any error of ``IDXFile/init(contentsOf:)`` or
    ///   ``ImageDataset/init(images:labels:)``.
    public init(directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue
        else {
            throw DAEError.fileUnreadable(path: directory.path, reason: "no such directory")
        }
        self.directory = directory
        train = try IDXDataset.load(images: FileName.trainImages, labels: FileName.trainLabels, in: directory)
        test = try IDXDataset.load(images: FileName.testImages, labels: FileName.testLabels, in: directory)
    }

    private static func load(images: String, labels: String, in directory: URL) throws -> ImageDataset {
        guard let imagesURL = find(images, in: directory) else {
            throw DAEError.fileUnreadable(
                path: directory.appendingPathComponent(images).path,
                reason: "missing: neither \(images) nor \(images).gz is in \(directory.path)")
        }
        let labelFile = try find(labels, in: directory).map { try IDXFile(contentsOf: $0) }
        return try ImageDataset(images: IDXFile(contentsOf: imagesURL), labels: labelFile)
    }

    /// `name.gz` or `name` in `directory`, whichever exists first, or nil.
    private static func find(_ name: String, in directory: URL) -> URL? {
        for candidate in [name + ".gz", name] {
            let url = directory.appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        return nil
    }
}
