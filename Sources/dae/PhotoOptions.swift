import ArgumentParser
import DAEKit
import Foundation

/// The flags of training on a folder of photographs (`--images`), shared by `demo` and `train`.
struct PhotoOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Train the photo model on a folder of PNG/JPEG images instead of IDX data.", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Side of the square training patches (with --images; default 40).", valueName: "n"))
    var patchSize: Int?

    @Option(help: ArgumentHelp("Patches drawn per epoch (with --images; default 4096).", valueName: "n"))
    var patchesPerEpoch: Int?

    @Option(help: ArgumentHelp("Files held out for validation, the last ones by name (with --images; default: a sixth).", valueName: "n"))
    var validationFiles: Int?

    @Option(help: ArgumentHelp("Channels of the photo model: 1 or 3 (with --images; default: 3 if any image is colour).", valueName: "n"))
    var channels: Int?

    @Option(help: ArgumentHelp("The architecture of a new photo model: 'photo' (7 convolutions of 48, the default), "
                               + "'builtin' (the built-in denoiser's: a noise-level map, 10 convolutions of 48, 48×48 patches), "
                               + "'builtin-deep' (the same with 17 convolutions; start it from a trained 'builtin' model "
                               + "with --initial-weights, which inserts identity layers), 'builtin-deeper' (23 convolutions; "
                               + "start it from a trained 'builtin-deep' model likewise) or "
                               + "'ffdnet' (2×2 pixel unshuffle, a noise-level map, 12 convolutions of 64 at half resolution, "
                               + "64×64 patches) (with --images).", valueName: "name"))
    var preset: PhotoPreset?

    @Option(help: ArgumentHelp("Start a new photo model from this model file's weights instead of random ones (fine-tuning; "
                               + "a colour model is converted to gray for --channels 1, a shallower residual model is deepened to the preset's depth with identity layers) (with --images).", valueName: "file"))
    var initialWeights: String?

    @Option(help: ArgumentHelp("Adam's learning rate for a new photo model (with --images; default 0.001), e.g. lower to fine-tune "
                               + "from --initial-weights; the cosine decay takes it to a tenth.", valueName: "rate"))
    var learningRate: Float?

    @Flag(help: "Do not flip or rotate the patches (with --images).")
    var noAugment = false

    @Flag(help: "With --resume: continue although the image folder differs from the first run's (the result then differs from an uninterrupted run).")
    var acceptChangedImages = false

    @Option(help: ArgumentHelp("Reduction factors patches are drawn at, comma-separated (with --images; default 1,2,3,4).",
                               valueName: "list"), transform: Parse.positiveIntegers)
    var patchScales: [Int]?

    @Option(help: ArgumentHelp("The fraction of colour training patches made gray (their channels' mean) before the noise, "
                               + "so that the model learns monochrome photographs with colour noise (with --images; default 0).",
                               valueName: "fraction"))
    var grayPatches: Double?

    @Option(help: ArgumentHelp("How each patch's squared error counts in the loss: 'uniform' (the mean squared error, the default) "
                               + "or 'noise-std' (divided by the patch's noise std, at least 5/255, times 25/255: light noise "
                               + "counts as much as heavy noise in decibels) (with --images).", valueName: "kind"))
    var lossWeighting: LossWeightingKind?

    @Option(help: ArgumentHelp("Draw each training patch as the most textured of this many placements (1: as drawn, the default; "
                               + "2 spends more of the training on texture and edges than on smooth sky) (with --images).",
                               valueName: "n"))
    var textureCandidates: Int?

    @Flag(help: ArgumentHelp("Put each colour training patch's channels in one of their 6 orders at random (RGB, RBG, …), so that "
                             + "a model trained on mostly green and blue photographs sees every hue (with --images)."))
    var permuteChannels = false

    func validate() throws {
        if images == nil, patchSize != nil || patchesPerEpoch != nil || validationFiles != nil || channels != nil || noAugment
            || patchScales != nil || preset != nil || acceptChangedImages || initialWeights != nil || learningRate != nil
            || grayPatches != nil || lossWeighting != nil || textureCandidates != nil || permuteChannels {
            throw ValidationError("--patch-size, --patches-per-epoch, --patch-scales, --validation-files, --channels, --preset, --initial-weights, --learning-rate, --gray-patches, --loss-weighting, --texture-candidates, --permute-channels, --no-augment and --accept-changed-images need --images")
        }
        if permuteChannels, channels == 1 {
            throw ValidationError("--permute-channels needs a colour model; --channels 1 has one channel")
        }
        if let textureCandidates, !(1...PatchSampler.maximumTextureCandidates).contains(textureCandidates) {
            throw ValidationError("--texture-candidates must be 1 to \(PatchSampler.maximumTextureCandidates), got \(textureCandidates)")
        }
        if let grayPatches, !(0...1).contains(grayPatches) {
            throw ValidationError("--gray-patches must be 0 to 1, got \(grayPatches)")
        }
        if let grayPatches, grayPatches > 0, channels == 1 {
            throw ValidationError("--gray-patches needs a colour model; --channels 1 trains on gray images already")
        }
        try require(patchSize, atLeast: 1, "--patch-size")
        try require(patchesPerEpoch, atLeast: 1, "--patches-per-epoch")
        if let patchesPerEpoch, patchesPerEpoch > PatchSampler.maximumPatchesPerEpoch {
            throw ValidationError("--patches-per-epoch \(patchesPerEpoch) is more than \(PatchSampler.maximumPatchesPerEpoch), the most one epoch draws")
        }
        if let patchSize, patchSize > PatchSampler.maximumPatchSize {
            throw ValidationError("--patch-size \(patchSize) is more than \(PatchSampler.maximumPatchSize) pixels")
        }
        try require(validationFiles, atLeast: 1, "--validation-files")
        if let channels, channels != 1, channels != 3 { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
        if let learningRate, !(learningRate > 0 && learningRate <= 1) {
            throw ValidationError("--learning-rate must be in (0, 1], got \(learningRate)")
        }
    }

    /// The folder, split into training and held-out files.
    func load(_ directory: String) throws -> PhotoData {
        let folder = try ImageFolder(directory: FileSystem.url(directory), channels: channels)
        let held = validationFiles ?? ImageFolder.defaultValidationFiles(count: folder.count)
        guard held >= 1 else {
            throw CLIError("\(folder.root.path) holds only \(folder.count) image: training needs at least two (one is held out)")
        }
        let (train, validation) = try folder.split(validationFiles: held)
        let patch = patchSize ?? (preset ?? .photo).defaultPatchSize
        let scales = patchScales ?? PatchSampler.photoScales
        let gray = grayPatches ?? 0
        if gray > 0, folder.channels != 3 {
            throw CLIError("--gray-patches needs colour images: \(folder.root.path) holds only gray ones")
        }
        if permuteChannels, folder.channels != 3 {
            throw CLIError("--permute-channels needs colour images: \(folder.root.path) holds only gray ones")
        }
        let patches = try PatchSampler(train, patchSize: patch, patchesPerEpoch: patchesPerEpoch ?? 4096, augment: !noAugment,
                                       scales: scales, grayFraction: gray, textureCandidates: textureCandidates ?? 1,
                                       permuteChannels: permuteChannels)
        // The patch sampler would say "no image … is at least N×N" of the folder: name the held-out files instead.
        if let small = validation.files.first, validation.files.allSatisfy({ min($0.width, $0.height) < patch }) {
            throw CLIError("the held-out file\(validation.count == 1 ? "" : "s") \(validation.files.map(\.name).joined(separator: ", ")) "
                + "(the last by name; \(small.name) is \(small.width)x\(small.height)) \(validation.count == 1 ? "is" : "are") smaller than "
                + "the \(patch)x\(patch) patches: validation needs one at least that large; add --validation-files or rename the files")
        }
        let validationPatches = try PatchSampler(validation, patchSize: patch, patchesPerEpoch: 256, augment: false,
                                                 scales: scales, seed: 1)
        return PhotoData(folder: folder, train: train, validation: validation, patches: patches, validationPatches: validationPatches)
    }
}

/// The loss weightings `--loss-weighting` names.
enum LossWeightingKind: String, ExpressibleByArgument, CaseIterable {
    case uniform, noiseStd = "noise-std"

    /// The kind of a recorded weighting (``LossWeighting/photoBalanced`` is `noise-std`).
    init(_ weighting: LossWeighting) { self = weighting == .uniform ? .uniform : .noiseStd }

    /// The weighting `fit` applies.
    var weighting: LossWeighting { self == .uniform ? .uniform : .photoBalanced }
}

/// The architectures `--preset` names for a new photo model.
enum PhotoPreset: String, ExpressibleByArgument, CaseIterable {
    case photo, builtin, builtinDeep = "builtin-deep", builtinDeeper = "builtin-deeper", ffdnet

    /// The architecture for images of `channels`.
    func configuration(channels: Int) -> DenoisingAutoencoder.Configuration {
        switch self {
        case .photo: .photo(channels: channels)
        case .builtin: .builtInPhoto(channels: channels)
        case .builtinDeep: .builtInPhotoDeep(channels: channels)
        case .builtinDeeper: .builtInPhotoDeeper(channels: channels)
        case .ffdnet: .ffdnet(channels: channels)
        }
    }

    /// The side of its training patches unless `--patch-size` says otherwise.
    var defaultPatchSize: Int { configuration(channels: 1).inputShape[0] }
}

/// A photo folder ready to train on.
struct PhotoData {
    let folder: ImageFolder
    let train: ImageFolder
    let validation: ImageFolder
    let patches: PatchSampler
    let validationPatches: PatchSampler

    /// Says what was found, on standard error.
    func announce() {
        let megabytes = (folder.totalDecodedBytes + (1 << 20) - 1) >> 20
        Console.note("images: \(folder.count) in \(folder.root.path) (\(folder.channels == 3 ? "RGB" : "gray"), "
            + "\(megabytes) MB decoded; kept in memory up to \(folder.memoryBudget >> 20) MB)")
        Console.note("held out for validation: \(validation.files.map(\.name).joined(separator: ", "))")
        Console.note("training: \(train.count) images, \(patches.patchesPerEpoch) patches of "
            + "\(patches.patchSize)x\(patches.patchSize) per epoch at scales \(patches.scales.map { "1/\($0)" }.joined(separator: ", "))"
            + "\(patches.augment ? ", flipped and rotated" : "")"
            + "\(patches.grayFraction > 0 ? ", \(patches.grayFraction * 100)% made gray" : "")"
            + "\(patches.textureCandidates > 1 ? ", each the most textured of \(patches.textureCandidates)" : "")"
            + "\(patches.permuteChannels ? ", channels in random order" : "")")
    }
}
