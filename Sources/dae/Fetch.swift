import DAEFiles
import ArgumentParser
#if canImport(CryptoKit)
import CryptoKit
#else
import COpenSSLCrypto
#endif
import DAEKit
import Foundation

/// `dae fetch`: downloads a data set into the user's cache.
struct Fetch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download MNIST into the cache, verifying every file's SHA-256.",
        discussion: """
        Downloads the four MNIST files (train/t10k images/labels, .gz) from the \
        mirror, checks each against MNIST's published SHA-256 digest, and only \
        then writes them (atomically) into the directory, where 'dae demo' and \
        the other commands find them without --data. Files already there with \
        the right digest are kept. A download with another digest is discarded \
        and reported with both digests; nothing is written then.

        For testing, the environment variable DAE_FETCH_DIGESTS replaces the \
        expected digests: 'name=sha256,name=sha256,...' (names as \
        train-images-idx3-ubyte.gz).

        Examples:
          dae fetch mnist
          dae fetch mnist --dir ~/data/mnist
          dae fetch mnist --mirror https://ossci-datasets.s3.amazonaws.com/mnist/
          dae demo --data ~/.cache/dae/mnist
        """)

    /// The data sets `fetch` knows.
    enum Dataset: String, CaseIterable, ExpressibleByArgument {
        case mnist
    }

    @Argument(help: "The data set to download (mnist).")
    var dataset: Dataset

    @Option(help: ArgumentHelp("Target directory (default: $XDG_CACHE_HOME/dae/mnist or ~/.cache/dae/mnist).", valueName: "dir"))
    var dir: String?

    @Option(help: ArgumentHelp("Base URL of the mirror (the file names are appended).", valueName: "url"))
    var mirror = MNISTFiles.defaultMirror

    @Option(help: ArgumentHelp("Seconds to wait for the server before giving up.", valueName: "s"))
    var timeout: Double = 60

    func validate() throws {
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard let url = URL(string: mirror), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme) else {
            throw ValidationError("--mirror must be an http or https URL, got '\(mirror)'")
        }
    }

    func run() throws {
        let directory = dir.map(FileSystem.url) ?? DataLocation.cacheDirectory()
        let expected = try MNISTFiles.expectedDigests(environment: ProcessInfo.processInfo.environment)
        let base = mirror.hasSuffix("/") ? mirror : mirror + "/"
        let downloader = Downloader(timeout: timeout)
        var downloads: [(name: String, data: Data)] = []
        for name in MNISTFiles.names {
            guard let digest = expected[name] else { continue }
            let target = directory.appendingPathComponent(name)
            if let existing = try? Data(contentsOf: target), MNISTFiles.sha256(existing) == digest {
                Console.note(Console.lineStart + "\(target.path): present, SHA-256 verified")
                continue
            }
            guard let url = URL(string: base + name) else { throw CLIError("cannot form a URL from \(base + name)") }
            Console.status("downloading \(url.absoluteString)…")
            let data = try downloader.get(url)
            let actual = MNISTFiles.sha256(data)
            guard actual == digest else {
                throw CLIError("\(name) from \(url.absoluteString) failed verification: expected SHA-256 \(digest), got \(actual) "
                    + "(\(data.count) bytes); the download was discarded and nothing was written")
            }
            downloads.append((name, data))
        }
        if !downloads.isEmpty { try FileSystem.prepareOutputDirectory(directory) }
        for (name, data) in downloads {
            try AtomicFile.write(data, to: directory.appendingPathComponent(name))
            Console.note(Console.lineStart + "\(directory.appendingPathComponent(name).path): \(data.count) bytes, SHA-256 verified")
        }
        Console.output("MNIST is in \(directory.path)")
    }
}

/// MNIST's four files and their published SHA-256 digests (of the `.gz` files).
enum MNISTFiles {
    /// The mirror TensorFlow and Keras download from.
    static let defaultMirror = "https://storage.googleapis.com/cvdf-datasets/mnist/"

    /// The file names, as on every MNIST mirror.
    static let names = [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ]

    /// The well-known digests (torchvision, and others, check the same).
    static let digests: [String: String] = [
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ]

    /// The variable that replaces the digests, for tests: `name=sha256,...`.
    static let overrideVariable = "DAE_FETCH_DIGESTS"

    /// ``digests``, with the entries of `$DAE_FETCH_DIGESTS` replacing theirs.
    static func expectedDigests(environment: [String: String]) throws -> [String: String] {
        guard let text = environment[overrideVariable], !text.isEmpty else { return digests }
        var result = digests
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, digests[parts[0]] != nil, parts[1].count == 64,
                  parts[1].allSatisfy(\.isHexDigit) else {
                throw CLIError("\(overrideVariable): '\(entry)' is not 'name=sha256' with name one of \(names.joined(separator: ", "))")
            }
            result[parts[0]] = parts[1].lowercased()
        }
        return result
    }

    /// The SHA-256 of `data` in lowercase hex (CryptoKit on Apple platforms, OpenSSL's libcrypto elsewhere).
    static func sha256(_ data: Data) -> String {
        #if canImport(CryptoKit)
        let digest = Array(SHA256.hash(data: data))
        #else
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let status = data.withUnsafeBytes { raw in
            withUnsafeBytes(of: UInt8(0)) { empty in
                EVP_Digest(raw.baseAddress ?? empty.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
            }
        }
        precondition(status == 1 && length == 32, "OpenSSL's EVP_Digest(SHA-256) failed")
        digest.removeSubrange(32...)
        #endif
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
