import DAEFiles
import DAEImageIO
import Foundation

/// A directory tree of PNG and JPEG images — photographs, scans, frames of
/// any size, gray, RGB or RGBA — read as a set of images with one channel
/// count.
///
/// Files are found recursively (`.png`, `.jpg`, `.jpeg`, any case; hidden
/// files and directories skipped; links to files followed) and ordered by
/// their path relative to the root, so every listing, split and patch draw
/// is the same on every machine. Names are kept as bytes, so a name that is
/// not UTF-8 is listed and read like any other. Each file's header (only)
/// is read up front, so a file that is not a valid image, or one too large
/// to decode within `ImageReader.Limits`, is reported at once, by name.
///
/// Decoded pixels are kept as bytes (`height · width · channels` each), not
/// floats. While they fit in ``memoryBudget`` every image is decoded once
/// and kept; past it, images are decoded on demand and only the most
/// recently used that fit the budget are kept, so memory stays bounded
/// whatever the folder holds (at the cost of decoding again).
///
/// ```swift
/// let photos = try ImageFolder(directory: URL(fileURLWithPath: "photos"), channels: 3)
/// let (train, heldOut) = try photos.split(validationFiles: 2)    // the last two by name
/// let patches = try PatchSampler(train, patchSize: 40, patchesPerEpoch: 4096, seed: 1)
/// try model.fit(patches, options: TrainingOptions(epochs: 20, noise: .photoBlind))
/// ```
public struct ImageFolder: Sendable {
    /// One image file of the folder.
    public struct File: Sendable, Equatable {
        /// Its path relative to the folder's root, `/`-separated.
        public let name: String
        /// Its full path (for messages: a name that is not UTF-8 shows U+FFFD).
        public let path: String
        /// Its size in pixels.
        public let width: Int, height: Int
        /// 1 for a gray file, 3 for a colour one (as decoded, alpha aside).
        public let channels: Int
        /// Its full path as the file system's bytes, which open it whatever its name holds.
        public let fileSystemPath: FileSystemPath
    }

    /// The root directory.
    public let root: URL
    /// The channels every image is converted to: 1 (gray) or 3 (RGB).
    public let channels: Int
    /// The image files, ordered by ``File/name``.
    public let files: [File]
    /// The most decoded bytes kept in memory at once.
    public let memoryBudget: Int
    private let cache: DecodedImageCache

    /// The default memory budget for decoded pixels: 1 GiB.
    public static let defaultMemoryBudget = 1 << 30

    /// Lists the images under `directory` and reads their headers.
    ///
    /// - Throws: `DAEError/fileUnreadable(path:reason:)` when the directory
    ///   cannot be listed, `DAEError/invalidArgument(_:)` when it holds no
    ///   PNG or JPEG file or `channels` is not 1 or 3, and the reader's
    ///   errors for a file that is not a valid image (naming it).
    /// `channels` nil takes 3 when any file is in colour, else 1.
    public init(directory: URL, channels: Int? = nil, memoryBudget: Int = ImageFolder.defaultMemoryBudget) throws {
        guard channels == nil || channels == 1 || channels == 3 else {
            throw DAEError.invalidArgument("images are read as 1 (gray) or 3 (RGB) channels, not \(channels ?? 0)")
        }
        guard memoryBudget >= 0 else { throw DAEError.invalidArgument("memory budget must be non-negative, got \(memoryBudget)") }
        let root = directory.standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DAEError.fileUnreadable(path: root.path, reason: "not a directory")
        }
        let found = try ImageFileWalk.images(under: FileSystemPath(root))
        guard !found.isEmpty else {
            throw DAEError.invalidArgument("\(root.path) holds no PNG or JPEG image (.png, .jpg, .jpeg)")
        }
        let files = try found.map { entry -> File in
            let reader = try ImageReader(at: entry.path)  // the header only
            return File(name: entry.name, path: entry.path.description, width: reader.width, height: reader.height,
                        channels: reader.channels, fileSystemPath: entry.path)
        }
        self.init(root: root, channels: channels ?? (files.contains { $0.channels == 3 } ? 3 : 1), files: files,
                  memoryBudget: memoryBudget)
    }

    private init(root: URL, channels: Int, files: [File], memoryBudget: Int) {
        self.root = root
        self.channels = channels
        self.files = files
        self.memoryBudget = memoryBudget
        cache = DecodedImageCache(budget: memoryBudget)
    }

    /// The number of images.
    public var count: Int { files.count }

    /// Bytes all images take decoded at ``channels`` (what keeping them all would cost).
    public var totalDecodedBytes: Int { files.reduce(0) { $0 + $1.width * $1.height * channels } }

    /// Bytes of decoded pixels held in memory now.
    public var residentBytes: Int { cache.residentBytes }

    /// The decoded image `index` at ``channels``, from memory when kept.
    ///
    /// - Throws: the reader's errors when the file cannot be decoded (changed or damaged since it was listed).
    public func image(at index: Int) throws -> Image {
        precondition(files.indices.contains(index), "image index \(index) out of range 0..<\(files.count)")
        if let image = cache.image(for: index) { return image }
        let image = try ImageFile.read(at: files[index].fileSystemPath, channels: channels)
        guard image.width == files[index].width, image.height == files[index].height else {
            throw DAEError.corruptFile(path: files[index].path, reason: "its size changed since the folder was listed")
        }
        cache.insert(image, for: index)
        return image
    }

    /// Splits by whole files: the last `validationFiles` files in name order
    /// are held out, the others train. Deterministic: the same folder always
    /// splits the same way, and the held-out files are named by
    /// ``files`` of the second result.
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` unless `1 ≤ validationFiles < count`.
    public func split(validationFiles: Int) throws -> (train: ImageFolder, validation: ImageFolder) {
        guard validationFiles >= 1, validationFiles < files.count else {
            throw DAEError.invalidArgument(
                "cannot hold out \(validationFiles) of \(files.count) images: keep at least one to train and one to validate")
        }
        let cut = files.count - validationFiles
        return (ImageFolder(root: root, channels: channels, files: Array(files[..<cut]), memoryBudget: memoryBudget),
                ImageFolder(root: root, channels: channels, files: Array(files[cut...]), memoryBudget: memoryBudget))
    }

    /// The default number of held-out files for `count` images: a sixth, at
    /// least one (none when there is only one image).
    public static func defaultValidationFiles(count: Int) -> Int {
        count < 2 ? 0 : max(1, Int((Double(count) / 6).rounded()))
    }
}

/// Decoded images by index, up to a byte budget, least recently used dropped
/// first; safe to use from several threads (the training workers).
final class DecodedImageCache: @unchecked Sendable {
    private let lock = NSLock()
    private let budget: Int
    private var images: [Int: Image] = [:]
    private var order: [Int] = []
    private var bytes = 0

    init(budget: Int) { self.budget = budget }

    var residentBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return bytes
    }

    func image(for index: Int) -> Image? {
        lock.lock()
        defer { lock.unlock() }
        guard let image = images[index] else { return nil }
        if order.last != index, let position = order.firstIndex(of: index) {
            order.remove(at: position)
            order.append(index)
        }
        return image
    }

    func insert(_ image: Image, for index: Int) {
        lock.lock()
        defer { lock.unlock() }
        let size = image.pixels.count
        guard size <= budget, images[index] == nil else { return }
        while bytes + size > budget, let oldest = order.first {
            order.removeFirst()
            bytes -= images.removeValue(forKey: oldest)?.pixels.count ?? 0
        }
        images[index] = image
        order.append(index)
        bytes += size
    }
}
