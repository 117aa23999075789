import DAEImageIO
import DAELayers

/// Training images cut from an ``ImageFolder``: square patches at random
/// places and scales, new ones every epoch, optionally flipped and rotated.
///
/// Patch `i` of epoch `e` is a pure function of `(seed, e, i)`: its image
/// (drawn with probability proportional to the image's area, so every
/// pixel of the folder is equally likely to be covered), its scale (one of
/// ``scales`` that fits the image), its corner, and its orientation (one of
/// the 8 flips and 90° rotations when ``augment`` is on), and whether it is
/// made gray (with probability ``grayFraction``), and the order of its colour
/// channels (one of the 6 when ``permuteChannels`` is on) come from their own
/// random stream. With ``textureCandidates`` above 1, that stream draws as
/// many placements and the patch is the most textured of them.
///
/// A gray patch is a colour patch with its three channels replaced by their
/// mean: a monochrome picture in an RGB file. Noise is added afterwards and
/// independently per channel, as a camera's is, so a colour model trained on
/// some gray patches learns that noisy colour around a gray picture is
/// noise (a gray photograph is then a problem at a third of the noise
/// variance, which CBM3D's colour transform exploits too).
///
/// A patch at scale `s` is a region of `s · patchSize` pixels a side,
/// reduced by averaging each `s × s` block: the same picture seen from
/// farther away. Photographs of a few megapixels are smooth at the pixel
/// scale; their reduced copies carry the fine texture (foliage, fabric,
/// hair) that other photographs have at full size, and a model trained on
/// both generalises to them (measured: `Docs/Results.md`). Any patch can be
/// regenerated alone, whatever the thread or batch it falls in, so
/// training resumed from a checkpoint draws exactly the patches an
/// uninterrupted run would have.
///
/// Outside training (``fill(_:into:)``, used for validation), the patches
/// are those of epoch 0: fixed.
///
/// ```swift
/// let photos = try ImageFolder(directory: URL(fileURLWithPath: "photos"), channels: 3)
/// let patches = try PatchSampler(photos, patchSize: 40, patchesPerEpoch: 8192, seed: 7)
/// let batch = patches.allImagesTensor()      // [8192, 40, 40, 3], epoch 0's patches
/// ```
public struct PatchSampler: ImageSource {
    /// The images patches are cut from.
    public let folder: ImageFolder
    /// The side of a patch in pixels.
    public let patchSize: Int
    /// The patches in one epoch (the source's ``imageCount``).
    public let patchesPerEpoch: Int
    /// Whether patches are flipped and rotated at random (the 8 symmetries of the square).
    public let augment: Bool
    /// The seed of the patch positions.
    public let seed: UInt64
    /// The reduction factors patches are drawn at (1: full size), each with equal odds among those that fit the image.
    public let scales: [Int]
    /// The probability that a colour patch is made gray (its channels replaced by their mean); 0 for none.
    public let grayFraction: Double
    /// How many placements each patch is chosen from, the most textured
    /// kept (``texture(_:)``); 1: every patch as drawn.
    ///
    /// Photographs are mostly smooth (sky, bokeh, shadow), and their smooth
    /// patches teach a model little once it has learned them; drawing each
    /// patch as the more textured of two spends more of the training on
    /// fine texture and edges, where denoisers differ.
    public let textureCandidates: Int
    /// Whether each colour patch's channels are put in one of their 6 orders
    /// at random (RGB, RBG, GRB, GBR, BRG, BGR).
    ///
    /// Noise drawn independently per channel looks the same in every order,
    /// so a denoiser should treat the channels alike; the photographs that
    /// train are mostly nature (green, blue, brown), and the orders show it
    /// the other hues (reds, magentas, the colours of man-made things) on
    /// the same textures. Gray patches are left as they are.
    public let permuteChannels: Bool
    /// Indices of the folder's images large enough for a patch, and their cumulative areas.
    private let eligible: [Int]
    private let cumulativeAreas: [Double]
    /// For each eligible image, the ``scales`` whose region it holds (scale 1 always).
    private let fittingScales: [[Int]]

    /// The most patches one epoch may draw (2²⁸): `fit` keeps a shuffled
    /// order of an epoch's indices, 8 bytes each.
    public static let maximumPatchesPerEpoch = 1 << 28
    /// The largest patch side (4096 pixels).
    public static let maximumPatchSize = 4096

    /// A sampler of `patchesPerEpoch` patches of `patchSize`² per epoch, at
    /// the reduction factors `scales` (`[1]`: full size only), a
    /// `grayFraction` of them made gray (colour folders only), each the most
    /// textured of `textureCandidates` placements.
    ///
    /// With `grayFraction` 0, the patches are those of a sampler made before
    /// gray patches existed: the draw is skipped, not ignored. With
    /// `textureCandidates` 1, those of a sampler made before candidates
    /// existed; with `permuteChannels` off, those of one made before
    /// channel orders existed.
    ///
    /// - Throws: `DAEError/invalidArgument(_:)` for a non-positive size,
    ///   count or scale, a `grayFraction` outside 0...1 (or above 0 for a
    ///   gray folder), `textureCandidates` outside
    ///   1...``maximumTextureCandidates`` (or above 1 for 1-pixel patches,
    ///   which have no texture to compare), `permuteChannels` for a gray
    ///   folder, or when no image is at least `patchSize` on both sides.
    public init(_ folder: ImageFolder, patchSize: Int, patchesPerEpoch: Int, augment: Bool = true, scales: [Int] = [1],
                grayFraction: Double = 0, textureCandidates: Int = 1, permuteChannels: Bool = false, seed: UInt64 = 0) throws {
        guard patchSize > 0, patchesPerEpoch > 0 else {
            throw DAEError.invalidArgument("patch size and patches per epoch must be positive, got \(patchSize) and \(patchesPerEpoch)")
        }
        guard patchesPerEpoch <= Self.maximumPatchesPerEpoch else {
            throw DAEError.invalidArgument("\(patchesPerEpoch) patches per epoch is more than the \(Self.maximumPatchesPerEpoch) "
                + "an epoch may draw (its shuffled order alone would need \(ResourceLimits.format(bytes: patchesPerEpoch.multipliedReportingOverflow(by: 8).overflow ? Int.max : patchesPerEpoch * 8)))")
        }
        guard patchSize <= Self.maximumPatchSize else {
            throw DAEError.invalidArgument("patch size \(patchSize) is more than \(Self.maximumPatchSize) pixels")
        }
        guard !scales.isEmpty, scales.allSatisfy({ (1...16).contains($0) }) else {
            throw DAEError.invalidArgument("patch scales must be 1 to 16, got \(scales)")
        }
        guard (0...1).contains(grayFraction) else {
            throw DAEError.invalidArgument("the fraction of gray patches must be 0 to 1, got \(grayFraction)")
        }
        guard (1...Self.maximumTextureCandidates).contains(textureCandidates) else {
            throw DAEError.invalidArgument("texture candidates must be 1 to \(Self.maximumTextureCandidates), got \(textureCandidates)")
        }
        guard textureCandidates == 1 || patchSize > 1 else {
            throw DAEError.invalidArgument("texture candidates need patches of at least 2x2 pixels, got \(patchSize)x\(patchSize)")
        }
        guard grayFraction == 0 || folder.channels == 3 else {
            throw DAEError.invalidArgument("gray patches need a colour folder; \(folder.root.path) is read as gray")
        }
        guard !permuteChannels || folder.channels == 3 else {
            throw DAEError.invalidArgument("channel orders need a colour folder; \(folder.root.path) is read as gray")
        }
        let eligible = folder.files.indices.filter { folder.files[$0].width >= patchSize && folder.files[$0].height >= patchSize }
        guard !eligible.isEmpty else {
            throw DAEError.invalidArgument("no image in \(folder.root.path) is at least \(patchSize)x\(patchSize) pixels")
        }
        var total = 0.0
        cumulativeAreas = eligible.map { index in
            total += Double(folder.files[index].width) * Double(folder.files[index].height)
            return total
        }
        self.eligible = eligible
        let sortedScales = scales.sorted()
        fittingScales = eligible.map { index in
            let file = folder.files[index]
            return sortedScales.filter { min(file.width, file.height) >= $0 * patchSize }
        }
        self.folder = folder
        self.patchSize = patchSize
        self.patchesPerEpoch = patchesPerEpoch
        self.augment = augment
        self.seed = seed
        self.scales = sortedScales
        self.grayFraction = grayFraction
        self.textureCandidates = textureCandidates
        self.permuteChannels = permuteChannels
    }

    /// The 6 orders of the colour channels ``permuteChannels`` draws from: the
    /// source channels that become red, green and blue (0: R, 1: G, 2: B),
    /// the identity first.
    public static let channelOrders = [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]

    /// The most placements a patch may be chosen from (16).
    public static let maximumTextureCandidates = 16

    /// The photo preset's scales: full size, and reduced 2, 3 and 4 times.
    public static let photoScales = [1, 2, 3, 4]

    public var imageCount: Int { patchesPerEpoch }
    public var imageShape: [Int] { [patchSize, patchSize, folder.channels] }

    /// Epoch 0's patches (fixed): for validation and evaluation.
    public func fill(_ indices: some Collection<Int>, into destination: UnsafeMutablePointer<Float>) {
        fill(indices, epoch: 0, into: destination)
    }

    /// Epoch `epoch`'s patches at `indices`.
    ///
    /// An image that cannot be decoded any more (changed or damaged after the
    /// folder was listed) is a programming-level failure here, as `fill`
    /// cannot throw: call ``ImageFolder/image(at:)`` on every file first
    /// (``preload()``) to turn it into an error up front.
    public func fill(_ indices: some Collection<Int>, epoch: Int, into destination: UnsafeMutablePointer<Float>) {
        let size = patchSize * patchSize * folder.channels
        var out = destination
        for index in indices {
            precondition(index >= 0 && index < patchesPerEpoch, "patch index \(index) out of range 0..<\(patchesPerEpoch)")
            let chosen = choose(epoch: epoch, index: index, into: out)
            if chosen.gray {  // channels == 3 (checked in init)
                for pixel in stride(from: 0, to: size, by: 3) {
                    let mean = (out[pixel] + out[pixel + 1] + out[pixel + 2]) / 3
                    out[pixel] = mean; out[pixel + 1] = mean; out[pixel + 2] = mean
                }
            } else if chosen.order != 0 {  // channels == 3 (checked in init)
                let (r, g, b) = Self.channelOrders[chosen.order]
                for pixel in stride(from: 0, to: size, by: 3) {
                    let reordered = (out[pixel + r], out[pixel + g], out[pixel + b])
                    out[pixel] = reordered.0; out[pixel + 1] = reordered.1; out[pixel + 2] = reordered.2
                }
            }
            out += size
        }
    }

    /// Patch `index` of `epoch`: its placement, with its colour pixels (before
    /// any gray) written to `destination`. With several ``textureCandidates``
    /// each is cut in turn at `destination` and the most textured is kept
    /// (the first of equals).
    private func choose(epoch: Int, index: Int, into destination: UnsafeMutablePointer<Float>) -> Placement {
        var rng = RandomStreams.generator(seed: seed, .patches, epoch, index)
        let first = draw(using: &rng)
        cut(first, into: destination)
        guard textureCandidates > 1 else { return first }
        var best = first, bestTexture = texture(destination), last = first
        for _ in 1..<textureCandidates {
            last = draw(using: &rng)
            cut(last, into: destination)
            let candidate = texture(destination)
            if candidate > bestTexture { best = last; bestTexture = candidate }
        }
        if best != last { cut(best, into: destination) }
        return best
    }

    /// Cuts the patch at `placement` (its colour pixels, oriented, each
    /// `scale × scale` block averaged) into `destination`.
    private func cut(_ placement: Placement, into destination: UnsafeMutablePointer<Float>) {
        let p = patchSize, c = folder.channels
        let image: Image
        do {
            image = try folder.image(at: placement.image)
        } catch {
            preconditionFailure("\(error)")
        }
        let scale = placement.scale
        let norm = 255 * Float(scale * scale)  // a division, so scale 1 gives exactly byte / 255
        image.pixels.withUnsafeBufferPointer { pixels in
            let w = image.width
            var out = destination
            for y in 0..<p {
                for x in 0..<p {
                    // The patch pixel (y, x) reads the source block of its orientation, averaged.
                    let (sy, sx) = Self.orient(y, x, side: p, transform: placement.transform)
                    let top = placement.y + sy * scale, left = placement.x + sx * scale
                    for ch in 0..<c {
                        var sum = 0
                        for by in 0..<scale {
                            let row = ((top + by) * w + left) * c + ch
                            for bx in 0..<scale { sum += Int(pixels[row + bx * c]) }
                        }
                        out[ch] = Float(sum) / norm
                    }
                    out += c
                }
            }
        }
    }

    /// How textured a patch at `pixels` (`patchSize² × channels` values,
    /// rows of interleaved channels, as ``fill(_:epoch:into:)`` writes them)
    /// is: the mean squared difference between horizontally and vertically
    /// neighbouring samples of each channel; 0 for a 1-pixel patch. Flips
    /// and rotations change it only by rounding (the sum runs in another
    /// order).
    public func texture(_ pixels: UnsafePointer<Float>) -> Double {
        let p = patchSize, c = folder.channels
        guard p > 1 else { return 0 }
        var sum = 0.0
        for y in 0..<p {
            for x in 0..<p {
                for ch in 0..<c {
                    let here = pixels[(y * p + x) * c + ch]
                    if x + 1 < p { let d = Double(pixels[(y * p + x + 1) * c + ch] - here); sum += d * d }
                    if y + 1 < p { let d = Double(pixels[((y + 1) * p + x) * c + ch] - here); sum += d * d }
                }
            }
        }
        return sum / Double(2 * p * (p - 1) * c)
    }

    /// Decodes every image once, so that a damaged file is an error now rather than in ``fill(_:epoch:into:)``.
    public func preload() throws {
        for index in eligible { _ = try folder.image(at: index) }
    }

    /// Where patch `index` of `epoch` comes from: its image, reduction
    /// factor, top-left corner (in the image's pixels) and orientation.
    ///
    /// With several ``textureCandidates`` this cuts the candidates, as
    /// ``fill(_:epoch:into:)`` does (see there for images damaged since the
    /// folder was listed); with one it reads only the folder's listing.
    public func placement(epoch: Int, index: Int) -> (image: Int, scale: Int, y: Int, x: Int, transform: Int) {
        let chosen = chosen(epoch: epoch, index: index)
        return (chosen.image, chosen.scale, chosen.y, chosen.x, chosen.transform)
    }

    /// Whether patch `index` of `epoch` is made gray (see ``grayFraction``);
    /// its cost is ``placement(epoch:index:)``'s.
    public func isGray(epoch: Int, index: Int) -> Bool {
        chosen(epoch: epoch, index: index).gray
    }

    /// The order of patch `index`'s colour channels in epoch `epoch`, an
    /// index into ``channelOrders`` (0, the identity, without
    /// ``permuteChannels``; a gray patch's is not applied); its cost is
    /// ``placement(epoch:index:)``'s.
    public func channelOrder(epoch: Int, index: Int) -> Int {
        chosen(epoch: epoch, index: index).order
    }

    /// The placement ``fill(_:epoch:into:)`` uses for patch `index` of `epoch`, cut into scratch memory.
    private func chosen(epoch: Int, index: Int) -> Placement {
        guard textureCandidates > 1 else {
            var rng = RandomStreams.generator(seed: seed, .patches, epoch, index)
            return draw(using: &rng)
        }
        var scratch = [Float](repeating: 0, count: patchSize * patchSize * folder.channels)
        return scratch.withUnsafeMutableBufferPointer { choose(epoch: epoch, index: index, into: $0.baseAddress!) }
    }

    /// Where a patch comes from, how it is turned, and the order of its channels.
    private struct Placement: Equatable {
        var image, scale, y, x, transform: Int
        var gray: Bool
        var order: Int
    }

    /// One placement, drawn from a patch's stream: every field in this order
    /// (the gray draw and then the channel order last, each only when its
    /// option is on, so that samplers without them keep every earlier run's
    /// patches).
    private func draw(using rng: inout SplitMix64) -> Placement {
        let target = rng.nextUniform() * cumulativeAreas[cumulativeAreas.count - 1]
        var low = 0, high = cumulativeAreas.count - 1
        while low < high {  // the first image whose cumulative area exceeds the draw
            let mid = (low + high) / 2
            if cumulativeAreas[mid] > target { high = mid } else { low = mid + 1 }
        }
        let image = eligible[low]
        let file = folder.files[image]
        // Scale 1 always fits (the image is eligible); larger ones when the image holds their region.
        let fitting = fittingScales[low]
        let scale = fitting.count > 1 ? fitting[Int(rng.next() % UInt64(fitting.count))] : (fitting.first ?? 1)
        let side = scale * patchSize
        let y = Int(rng.next() % UInt64(file.height - side + 1))
        let x = Int(rng.next() % UInt64(file.width - side + 1))
        let transform = augment ? Int(rng.next() % 8) : 0
        let gray = grayFraction > 0 && rng.nextUniform() < grayFraction
        let order = permuteChannels ? Int(rng.next() % UInt64(Self.channelOrders.count)) : 0
        return Placement(image: image, scale: scale, y: y, x: x, transform: transform, gray: gray, order: order)
    }

    /// The source coordinates of patch pixel `(y, x)` under one of the 8
    /// symmetries of the square: bit 0 flips left–right, bit 1 flips
    /// top–bottom, bit 2 transposes.
    public static func orient(_ y: Int, _ x: Int, side: Int, transform: Int) -> (Int, Int) {
        var (y, x) = transform & 4 != 0 ? (x, y) : (y, x)
        if transform & 1 != 0 { x = side - 1 - x }
        if transform & 2 != 0 { y = side - 1 - y }
        return (y, x)
    }
}

extension PatchSampler {
    /// Decodes every image (``preload()``): `fit` calls this before training,
    /// so a file damaged since the folder was listed is a thrown error, not a
    /// failure inside a training step. Bytes need no range check.
    public func validatePixels(_ what: String) throws {
        try preload()
    }
}
