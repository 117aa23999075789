import Foundation

/// The models that ship inside the package, trained here by the library
/// itself (`scripts/train-builtin-model`) on the photographs of Debian
/// packages that `Models/training-photos.tsv` lists.
public enum PretrainedModel: String, Sendable, CaseIterable {
    /// The built-in photo denoiser for colour images
    /// (``DenoisingAutoencoder/Configuration/builtInPhotoDeep(channels:)``):
    /// Gaussian-like noise of any strength, with a noise-level map that
    /// ``DenoisingAutoencoder/denoise(_:noiseLevel:)`` sets or estimates.
    case photo
    /// The built-in photo denoiser for gray images
    /// (``DenoisingAutoencoder/Configuration/builtInPhotoDeep(channels:)``
    /// with one channel): the colour model made gray
    /// (``DenoisingAutoencoder/grayscale()``) and trained further on the
    /// same photographs in gray, whose noise (one draw per pixel) the colour
    /// model never saw.
    case photoGray

    /// The built-in photo denoiser for images of `channels` (1: gray, else colour).
    public static func photo(channels: Int) -> PretrainedModel { channels == 1 ? .photoGray : .photo }

    /// The resource's file name inside the package.
    var resourceName: String {
        switch self {
        case .photo: "builtin-photo-rgb"
        case .photoGray: "builtin-photo-gray"
        }
    }
}

extension DenoisingAutoencoder {
    /// A model that ships with the package, ready to denoise:
    ///
    /// ```swift
    /// let model = try DenoisingAutoencoder.pretrained(.photo)
    /// try model.denoiseImageFile(URL(fileURLWithPath: "night.jpg"), to: URL(fileURLWithPath: "night-clean.png"))
    /// ```
    ///
    /// - Throws: `DAEError/fileUnreadable(path:reason:)` when the package's
    ///   resource bundle is missing (a build that dropped it), and the
    ///   checkpoint reader's errors for a damaged file.
    public static func pretrained(_ which: PretrainedModel) throws -> DenoisingAutoencoder {
        guard let url = pretrainedURL(which) else {
            throw DAEError.fileUnreadable(path: "\(which.resourceName).safetensors",
                                          reason: "the built-in model is not in DAEKit's resource bundle (was the bundle copied beside the program?)")
        }
        return try DenoisingAutoencoder(contentsOf: url)
    }

    /// Where the resource of `which` is, or nil when the bundle lacks it.
    ///
    /// SwiftPM copies DAEKit's resource bundle beside the program that links
    /// it (`DenoisingAutoencoder_DAEKit.resources`, `.bundle` on Apple
    /// platforms). The bundle is looked up here rather than through
    /// `Bundle.module`, whose generated accessor stops the program when the
    /// bundle is missing: a program copied without it gets an error instead.
    public static func pretrainedURL(_ which: PretrainedModel) -> URL? {
        let names = ["DenoisingAutoencoder_DAEKit.resources", "DenoisingAutoencoder_DAEKit.bundle"]
        var places = [Bundle.main.bundleURL]
        if let resources = Bundle.main.resourceURL { places.append(resources) }
        if let executable = Bundle.main.executableURL { places.append(executable.deletingLastPathComponent()) }
        for place in places {
            for name in names {
                let root = place.appendingPathComponent(name)
                for folder in [root, root.appendingPathComponent("Contents/Resources")] {
                    let file = folder.appendingPathComponent("Models/\(which.resourceName).safetensors")
                    if FileManager.default.isReadableFile(atPath: file.path) { return file }
                }
            }
        }
        return nil
    }
}
