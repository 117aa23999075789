import DAEImageIO
import DAEKit
import Foundation
import Testing

/// `PatchSampler(permuteChannels:)`: each colour patch's channels in one of their 6 orders.
@Suite struct ChannelOrderTests {
    static let count = 120

    /// A colour sampler of the photo fixtures with `permute` and the other options given.
    static func sampler(_ folder: ImageFolder, permute: Bool, grayFraction: Double = 0, candidates: Int = 1) throws -> PatchSampler {
        try PatchSampler(folder, patchSize: 10, patchesPerEpoch: count, scales: [1, 2], grayFraction: grayFraction,
                         textureCandidates: candidates, permuteChannels: permute, seed: 21)
    }

    @Test("the channel orders are the 6 permutations of (0, 1, 2), the identity first")
    func orders() {
        #expect(PatchSampler.channelOrders.count == 6)
        #expect(PatchSampler.channelOrders[0] == (0, 1, 2))
        let all = Set(PatchSampler.channelOrders.map { [$0.0, $0.1, $0.2] })
        #expect(all.count == 6 && all.allSatisfy { Set($0) == [0, 1, 2] })
    }

    @Test("off, the patches are a plain sampler's; on, the same placements with their channels reordered, all 6 orders drawn")
    func reorderedPatches() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            let plain = try Self.sampler(folder, permute: false)
            let permuted = try Self.sampler(folder, permute: true)
            let unnamed = try PatchSampler(folder, patchSize: 10, patchesPerEpoch: Self.count, scales: [1, 2], seed: 21)
            let a = TexturedPatchTests.patches(plain, 0..<Self.count, epoch: 3)
            let b = TexturedPatchTests.patches(permuted, 0..<Self.count, epoch: 3)
            #expect(TexturedPatchTests.patches(unnamed, 0..<Self.count, epoch: 3) == a, "off is a sampler made before the option")
            var seen = [Int](repeating: 0, count: 6)
            for index in 0..<Self.count {
                #expect(plain.channelOrder(epoch: 3, index: index) == 0)
                // The order is drawn last: the placement is the plain sampler's.
                #expect(permuted.placement(epoch: 3, index: index) == plain.placement(epoch: 3, index: index))
                let order = permuted.channelOrder(epoch: 3, index: index)
                seen[order] += 1
                let (r, g, b0) = PatchSampler.channelOrders[order]
                for pixel in stride(from: index * 300, to: (index + 1) * 300, by: 3) {
                    #expect(b[pixel] == a[pixel + r] && b[pixel + 1] == a[pixel + g] && b[pixel + 2] == a[pixel + b0],
                            "patch \(index), order \(order), pixel \(pixel)")
                }
            }
            // 120 draws of 6 equally likely orders: 20 expected each, fewer than 6 by chance about once in 10⁵.
            #expect(seen.allSatisfy { $0 >= 6 }, "orders drawn \(seen)")
            // A pure function of seed, epoch and index, in any grouping.
            #expect(TexturedPatchTests.patches(permuted, [77, 5], epoch: 3) == Array(b[77 * 300..<78 * 300] + b[5 * 300..<6 * 300]))
        }
    }

    @Test("the most textured of several candidates is chosen before its order is applied")
    func withCandidates() throws {
        try withTemporaryDirectory { directory in
            let folder = try ImageFolder(directory: try Photos.folder(in: directory), channels: 3)
            let sampler = try Self.sampler(folder, permute: true, candidates: 3)
            let patches = TexturedPatchTests.patches(sampler, 0..<Self.count, epoch: 1)
            var reordered = 0
            for index in 0..<Self.count {
                let place = sampler.placement(epoch: 1, index: index)
                let image = try folder.image(at: place.image)
                let order = sampler.channelOrder(epoch: 1, index: index)
                if order != 0 { reordered += 1 }
                let source = PatchSampler.channelOrders[order]
                for (y, x) in [(0, 0), (3, 8), (9, 9)] {
                    let (sy, sx) = PatchSampler.orient(y, x, side: 10, transform: place.transform)
                    for (channel, from) in [source.0, source.1, source.2].enumerated() {
                        var sum = 0
                        for by in 0..<place.scale {
                            for bx in 0..<place.scale {
                                sum += Int(image[place.y + sy * place.scale + by, place.x + sx * place.scale + bx, from])
                            }
                        }
                        #expect(patches[index * 300 + (y * 10 + x) * 3 + channel] == Float(sum) / (255 * Float(place.scale * place.scale)))
                    }
                }
            }
            #expect(reordered > Self.count / 2, "only \(reordered) of \(Self.count) patches reordered")
        }
    }

    @Test("gray patches stay gray; a gray folder is refused")
    func grayPatches() throws {
        try withTemporaryDirectory { directory in
            let root = try Photos.folder(in: directory)
            let folder = try ImageFolder(directory: root, channels: 3)
            let gray = TexturedPatchTests.patches(try Self.sampler(folder, permute: false, grayFraction: 1), 0..<Self.count, epoch: 2)
            let both = TexturedPatchTests.patches(try Self.sampler(folder, permute: true, grayFraction: 1), 0..<Self.count, epoch: 2)
            #expect(both == gray)
            #expect {
                try PatchSampler(try ImageFolder(directory: root, channels: 1), patchSize: 8, patchesPerEpoch: 4, permuteChannels: true)
            } throws: { "\($0)".contains("channel orders need a colour folder") }
        }
    }
}
