import DAEImageIO
import Foundation

/// The built-in photo denoisers as one: what `dae denoise` runs when no
/// model is given. For each image file it picks
/// - the gray model (``PretrainedModel/photoGray``) for a gray file;
/// - the gray model on the channels' mean for a colour file that holds a
///   gray picture under noise (``GrayContentTest``): the mean keeps all of
///   the picture with a third of the noise variance, and the output PNG is
///   RGB, the denoised gray repeated;
/// - the colour model (``PretrainedModel/photo``) for any other.
///
/// Each model is loaded once, when a file first needs it.
///
/// ```swift
/// var denoiser = BuiltInPhotoDenoiser()
/// let report = try denoiser.denoiseImageFile(URL(fileURLWithPath: "scan.jpg"), to: URL(fileURLWithPath: "scan-clean.png"))
/// print(report.grayContent, report.noiseLevel ?? 0)
/// ```
public struct BuiltInPhotoDenoiser: Sendable {
    /// Threads each model uses (``DenoisingAutoencoder/workers``), set on
    /// every model loaded so far and on each loaded later.
    public var workers: Int {
        didSet { for which in loaded.keys { loaded[which]?.workers = workers } }
    }
    /// Called once per model, when it is first loaded (a place to say which model runs).
    public var onLoad: (@Sendable (PretrainedModel, DenoisingAutoencoder) -> Void)?
    private var loaded: [PretrainedModel: DenoisingAutoencoder] = [:]

    /// A denoiser whose models use `workers` threads (default: all cores).
    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.workers = workers
    }

    /// The built-in model `which`, loaded on first use with ``workers`` threads.
    ///
    /// - Throws: ``DenoisingAutoencoder/pretrained(_:)``'s errors.
    public mutating func model(_ which: PretrainedModel) throws -> DenoisingAutoencoder {
        if let model = loaded[which] { return model }
        var model = try DenoisingAutoencoder.pretrained(which)
        model.workers = workers
        loaded[which] = model
        onLoad?(which, model)
        return model
    }

    /// Denoises the PNG or JPEG at `input` as ``denoiseImageFile(at:to:noiseLevel:progress:)`` does.
    @discardableResult
    public mutating func denoiseImageFile(_ input: URL, to output: URL, noiseLevel: Float? = nil,
                                          progress: (@Sendable (Double) -> Void)? = nil) throws -> FileDenoisingReport {
        try denoiseImageFile(at: FileSystemPath(input), to: output, noiseLevel: noiseLevel, progress: progress)
    }

    /// Denoises the PNG or JPEG at `input` (a path whose name need not be
    /// UTF-8, as `FileSystemPath` allows) into a PNG at `output` with the
    /// model the file needs (above), streaming, as
    /// ``DenoisingAutoencoder/denoiseImageFile(at:to:overlap:noiseLevel:progress:)``.
    ///
    /// `noiseLevel` is the noise std of each channel (in [0, 1] units); for a
    /// gray picture in RGB, the mean's is derived from it
    /// (``GrayContentTest/Verdict/meanNoiseLevel(forChannelNoiseLevel:)``).
    /// Nil estimates it. A colour file is read in one pass before it is
    /// denoised, for the test and the estimate together (with a level
    /// given, for the test alone).
    ///
    /// - Throws: the file denoiser's and the models' errors.
    @discardableResult
    public mutating func denoiseImageFile(at input: FileSystemPath, to output: URL, noiseLevel: Float? = nil,
                                          progress: (@Sendable (Double) -> Void)? = nil) throws -> FileDenoisingReport {
        if let noiseLevel, !(0...1).contains(noiseLevel) {
            throw DAEError.invalidArgument("noise level \(noiseLevel) must be in [0, 1] (σ/255 for 8-bit images)")
        }
        let reader = try ImageReader(at: input)
        guard reader.channels == 3 else {
            return try model(.photoGray).denoiseImageFile(at: input, to: output, noiseLevel: noiseLevel, progress: progress)
        }
        try DenoisingAutoencoder.checkStreamable(reader, channels: 3, path: input)
        let (verdict, estimate) = try Self.examine(reader)
        if let verdict {
            let level = noiseLevel.map(verdict.meanNoiseLevel(forChannelNoiseLevel:)) ?? verdict.noiseLevel
            var report = try model(.photoGray).denoiseImageFile(at: input, to: output, overlap: nil, noiseLevel: level,
                                                                 meanOfRGB: true, progress: progress)
            report.grayContent = true
            return report
        }
        return try model(.photo).denoiseImageFile(at: input, to: output, noiseLevel: noiseLevel ?? estimate, progress: progress)
    }

    /// One pass over a colour file's rows: the gray-picture test and the
    /// colour noise estimate (``GrayContentTest/channelNoiseLevel``: the
    /// estimate the colour model's own file denoiser makes).
    static func examine(_ reader: ImageReader) throws -> (GrayContentTest.Verdict?, Float) {
        var test = GrayContentTest(width: reader.width)
        try DenoisingAutoencoder.forEachRowChunk(of: reader, channels: 3) { rows, count in test.add(rows: rows, rowCount: count) }
        return (test.verdict, test.channelNoiseLevel)
    }
}
