import DAEImageIO
import DAEKit
import Foundation
import Testing

/// `PatchSampler(textureCandidates:)`: each patch the most textured of several placements.
@Suite struct TexturedPatchTests {
    /// Epoch `epoch`'s patches at `indices` from `sampler`.
    static func patches(_ sampler: PatchSampler, _ indices: some Collection<Int>, epoch: Int) -> [Float] {
        let size = sampler.patchSize * sampler.patchSize * sampler.folder.channels
        var out = [Float](repeating: -1, count: indices.count * size)
        out.withUnsafeMutableBufferPointer { sampler.fill(indices, epoch: epoch, into: $0.baseAddress!) }
        return out
    }

    /// The texture of patch `index` in `patches`.
    static func texture(of sampler: PatchSampler, _ patches: [Float], _ index: Int) -> Double {
        let size = sampler.patchSize * sampler.patchSize * sampler.folder.channels
        return patches.withUnsafeBufferPointer { sampler.texture($0.baseAddress! + index * size) }
    }

    @Test("the texture measure: 0 on a flat patch, the mean squared step on stripes, the same turned")
    func textureMeasure() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 1)
            let sampler = try PatchSampler(folder, patchSize: 4, patchesPerEpoch: 1)
            #expect(sampler.texture([Float](repeating: 0.3, count: 16)) == 0)
            // Vertical stripes 0, 1, 0, 1: every horizontal step is 1 (12 of them), no vertical one (of 24 pairs in all).
            let stripes: [Float] = (0..<16).map { Float($0 % 2) }
            #expect(sampler.texture(stripes) == 0.5)
            let turned: [Float] = (0..<16).map { Float(($0 / 4) % 2) }
            #expect(sampler.texture(turned) == 0.5)
        }
    }

    @Test("each patch is the most textured of its candidates, the first of which is the plain draw", arguments: [1, 3])
    func mostTexturedCandidate(channels: Int) throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: channels)
            let count = 120
            let plain = try PatchSampler(folder, patchSize: 12, patchesPerEpoch: count, scales: [1, 2], seed: 11)
            let textured = try PatchSampler(folder, patchSize: 12, patchesPerEpoch: count, scales: [1, 2], textureCandidates: 3, seed: 11)
            let one = try PatchSampler(folder, patchSize: 12, patchesPerEpoch: count, scales: [1, 2], textureCandidates: 1, seed: 11)
            // Two candidates are the first two of three: the third can only raise the kept texture.
            let two = try PatchSampler(folder, patchSize: 12, patchesPerEpoch: count, scales: [1, 2], textureCandidates: 2, seed: 11)
            let a = Self.patches(plain, 0..<count, epoch: 2), b = Self.patches(textured, 0..<count, epoch: 2)
            let c = Self.patches(two, 0..<count, epoch: 2)
            #expect(Self.patches(one, 0..<count, epoch: 2) == a, "one candidate is the plain sampler")
            var changed = 0, plainSum = 0.0, texturedSum = 0.0
            for index in 0..<count {
                let before = Self.texture(of: plain, a, index), after = Self.texture(of: textured, b, index)
                #expect(after >= before, "patch \(index): \(after) < the first candidate's \(before)")
                let ofTwo = Self.texture(of: two, c, index)
                #expect(ofTwo >= before && after >= ofTwo, "patch \(index): first \(before), of two \(ofTwo), of three \(after)")
                plainSum += before; texturedSum += after
                if textured.placement(epoch: 2, index: index) != plain.placement(epoch: 2, index: index) {
                    changed += 1
                    #expect(after > before, "patch \(index) left its first candidate for one no more textured")
                } else {
                    #expect(Self.texture(of: textured, b, index) == before)
                }
            }
            #expect(changed > count / 4, "only \(changed) of \(count) patches took another candidate")
            #expect(texturedSum > plainSum * 1.05, "mean texture \(texturedSum / Double(count)) against \(plainSum / Double(count))")
        }
    }

    @Test("a chosen patch is cut at its reported placement, and stays a pure function of seed, epoch and index")
    func placementAndDeterminism() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 1)
            let sampler = try PatchSampler(folder, patchSize: 8, patchesPerEpoch: 30, scales: [1, 2], textureCandidates: 4, seed: 5)
            let all = Self.patches(sampler, 0..<30, epoch: 4)
            #expect(Self.patches(sampler, [17, 3], epoch: 4) == Array(all[17 * 64..<18 * 64] + all[3 * 64..<4 * 64]))
            #expect(all != Self.patches(sampler, 0..<30, epoch: 5))
            for index in 0..<30 {
                let place = sampler.placement(epoch: 4, index: index)
                let image = try folder.image(at: place.image)
                for (y, x) in [(0, 0), (2, 6), (7, 7)] {
                    let (sy, sx) = PatchSampler.orient(y, x, side: 8, transform: place.transform)
                    var sum = 0
                    for by in 0..<place.scale {
                        for bx in 0..<place.scale {
                            sum += Int(image[place.y + sy * place.scale + by, place.x + sx * place.scale + bx, 0])
                        }
                    }
                    #expect(all[index * 64 + y * 8 + x] == Float(sum) / (255 * Float(place.scale * place.scale)))
                }
            }
        }
    }

    @Test("gray patches are chosen by their colour texture, then made gray")
    func grayAfterChoice() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            // Both draw a gray decision per candidate, so both see the same candidates.
            let half = try PatchSampler(folder, patchSize: 10, patchesPerEpoch: 60, grayFraction: 0.5, textureCandidates: 3, seed: 8)
            let all = try PatchSampler(folder, patchSize: 10, patchesPerEpoch: 60, grayFraction: 1, textureCandidates: 3, seed: 8)
            let a = Self.patches(half, 0..<60, epoch: 1), b = Self.patches(all, 0..<60, epoch: 1)
            var colourCount = 0
            for index in 0..<60 {
                #expect(all.placement(epoch: 1, index: index) == half.placement(epoch: 1, index: index))
                guard !half.isGray(epoch: 1, index: index) else {
                    #expect(a[index * 300..<(index + 1) * 300] == b[index * 300..<(index + 1) * 300])
                    continue
                }
                colourCount += 1
                for pixel in stride(from: index * 300, to: (index + 1) * 300, by: 3) {
                    let mean = (a[pixel] + a[pixel + 1] + a[pixel + 2]) / 3
                    #expect(b[pixel] == mean && b[pixel + 1] == mean && b[pixel + 2] == mean)
                }
            }
            #expect((12...48).contains(colourCount), "\(colourCount) colour patches of 60")
        }
    }

    @Test("texture candidates outside 1...16, or for 1-pixel patches, are refused")
    func limits() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory))
            for candidates in [0, -1, PatchSampler.maximumTextureCandidates + 1] {
                #expect {
                    try PatchSampler(folder, patchSize: 8, patchesPerEpoch: 4, textureCandidates: candidates)
                } throws: { "\($0)".contains("texture candidates must be 1 to 16, got \(candidates)") }
            }
            // A 1-pixel patch has no neighbours to measure: one candidate only.
            #expect {
                try PatchSampler(folder, patchSize: 1, patchesPerEpoch: 4, textureCandidates: 2)
            } throws: { "\($0)".contains("texture candidates need patches of at least 2x2 pixels") }
            let single = try PatchSampler(folder, patchSize: 1, patchesPerEpoch: 4)
            #expect(single.texture([0.5, 0.1, 0.9]) == 0)
        }
    }
}
