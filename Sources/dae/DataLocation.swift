import DAEKit
import Foundation

/// Which IDX directory a command reads, and why that one.
///
/// The rules, in order:
/// 1. `--data DIR` when given;
/// 2. else `$DAE_DATA` when set;
/// 3. else the MNIST cache (`$XDG_CACHE_HOME/dae/mnist`, by default
///    `~/.cache/dae/mnist`, where `dae fetch mnist` puts it) when it holds
///    the four IDX files;
/// 4. else Fashion-MNIST at `/usr/share/datasets/fashion-mnist` (Debian's
///    `dataset-fashion-mnist`).
///
/// A directory named by `--data` or `$DAE_DATA` must exist: the search
/// does not fall through to the next rule, so a typo is an error rather
/// than a silent switch of data set.
struct DataLocation {
    /// How the directory was chosen.
    enum Source: String {
        case flag = "--data"
        case environment = "$DAE_DATA"
        case cache = "MNIST cache"
        case system = "default: Fashion-MNIST from dataset-fashion-mnist"
    }

    /// The directory holding the IDX files.
    let directory: URL
    /// How it was chosen.
    let source: Source

    /// The environment variable naming a data directory.
    static let environmentVariable = "DAE_DATA"

    /// The directory `dae fetch mnist` fills and the search looks in.
    static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return URL(fileURLWithPath: xdg).appendingPathComponent("dae/mnist")
        }
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser
        return home.appendingPathComponent(".cache/dae/mnist")
    }

    /// Where Debian's `dataset-fashion-mnist` installs Fashion-MNIST.
    static let systemDirectory = IDXDataset.fashionMNISTDirectory

    /// How to get data, for error messages.
    static let howToGetData =
        "install Fashion-MNIST with 'sudo apt-get install dataset-fashion-mnist', download MNIST with 'dae fetch mnist', or pass --data DIR"

    /// Chooses the directory by the rules above.
    ///
    /// - Throws: ``CLIError`` naming every place looked at and how to get data.
    static func resolve(flag: String?,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DataLocation {
        if let flag {
            return try existing(FileSystem.url(flag), source: .flag)
        }
        if let value = environment[environmentVariable], !value.isEmpty {
            return try existing(FileSystem.url(value), source: .environment)
        }
        let cache = cacheDirectory(environment: environment)
        if holdsIDXFiles(cache) { return DataLocation(directory: cache, source: .cache) }
        if FileSystem.isDirectory(systemDirectory) { return DataLocation(directory: systemDirectory, source: .system) }
        throw CLIError("no data set found: looked at --data (not given), $\(environmentVariable) (not set), "
            + "\(cache.path) (no MNIST files) and \(systemDirectory.path) (missing); \(howToGetData)")
    }

    private static func existing(_ url: URL, source: Source) throws -> DataLocation {
        guard FileSystem.isDirectory(url) else {
            throw CLIError("no data directory at \(url.path) (from \(source.rawValue)); \(howToGetData)")
        }
        return DataLocation(directory: url, source: source)
    }

    /// Whether `directory` holds the four IDX files (each plain or `.gz`).
    static func holdsIDXFiles(_ directory: URL) -> Bool {
        let names = [IDXDataset.FileName.trainImages, IDXDataset.FileName.trainLabels,
                     IDXDataset.FileName.testImages, IDXDataset.FileName.testLabels]
        return names.allSatisfy { name in
            FileSystem.exists(directory.appendingPathComponent(name))
                || FileSystem.exists(directory.appendingPathComponent(name + ".gz"))
        }
    }

    /// A short name for the data set: the directory's last component
    /// (`fashion-mnist`, `mnist`, …).
    var name: String { directory.lastPathComponent }

    /// Loads the data set (say which one with ``announce(_:)`` once the
    /// command has checked that it fits, so a failure stays one line).
    /// With `limit`, only the images ``DataSubset`` keeps are read: `limit`
    /// training and `max(100, limit / 6)` test images.
    func load(limit: Int? = nil) throws -> IDXDataset {
        try IDXDataset(directory: directory, trainLimit: limit, testLimit: limit.map(DataSubset.testCount(forLimit:)))
    }

    /// Loads only the test images, at most `limit` of them (the training
    /// images are not read at all).
    func loadTest(limit: Int? = nil) throws -> ImageDataset {
        try IDXDataset.load(.test, from: directory, limit: limit)
    }

    /// Says on standard error which data set is used.
    func announce(_ data: IDXDataset) {
        Console.note("data: \(directory.path) (\(source.rawValue)): \(data.train.count) training and "
            + "\(data.test.count) test images of \(data.train.shapeText)")
    }

    /// Says on standard error which test images are used.
    func announce(test: ImageDataset) {
        Console.note("data: \(directory.path) (\(source.rawValue)): \(test.count) test images of \(test.shapeText)")
    }
}
