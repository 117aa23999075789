import DAEImageIO
import DAELayers
import Testing

/// A reproducible image `[1, height, width, channels]` of values in [0, 1).
func randomImage(height: Int, width: Int, channels: Int, seed: UInt64 = 7) -> Tensor {
    var state = seed
    let scalars = (0..<height * width * channels).map { _ -> Float in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 24)
    }
    return Tensor(shape: [1, height, width, channels], scalars: scalars)
}

@Suite("Tiling large images")
struct TilingTests {
    @Test("tiles cover a 61×45 image, flush with every edge, overlapping by at least the minimum")
    func coverage() throws {
        let plan = try TilePlan(imageHeight: 61, imageWidth: 45, tileHeight: 28, tileWidth: 28, minimumOverlap: 8)
        #expect(plan.rowOrigins == [0, 17, 33])
        #expect(plan.columnOrigins == [0, 17])
        #expect(plan.tileCount == 6)
        for (origins, tile) in [(plan.rowOrigins, 28), (plan.columnOrigins, 28)] {
            for (a, b) in zip(origins, origins.dropFirst()) {
                #expect(b > a && a + tile - b >= 8)
            }
        }
        var covered = [Bool](repeating: false, count: 61 * 45)
        for t in 0..<plan.tileCount {
            let (top, left) = plan.origin(ofTile: t)
            for y in top..<top + 28 { for x in left..<left + 28 { covered[y * 45 + x] = true } }
        }
        #expect(covered.allSatisfy { $0 })
    }

    @Test("blending the unmodified tiles gives back the image", arguments: [(61, 45, 1), (61, 45, 3), (28, 28, 1), (100, 29, 2)])
    func exactReconstruction(height: Int, width: Int, channels: Int) throws {
        let image = randomImage(height: height, width: width, channels: channels)
        let plan = try TilePlan(imageHeight: height, imageWidth: width, tileHeight: 28, tileWidth: 28, minimumOverlap: 6)
        let tiles = try plan.extractTiles(from: image)
        #expect(tiles.shape == [plan.tileCount, 28, 28, channels])
        let restored = try plan.blend(tiles: tiles)
        #expect(restored.shape == image.shape)
        let error = zip(restored.scalars, image.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(error <= 1e-6)
    }

    @Test("row by row (cut from the rows held, blended with one tile height of sums) equals the whole image, bit for bit",
          arguments: [(61, 45, 1, 8), (100, 29, 3, 0), (10, 20, 2, 4)])
    func streamedEqualsWhole(height: Int, width: Int, channels: Int, overlap: Int) throws {
        let image = randomImage(height: height, width: width, channels: channels)
        let plan = try TilePlan(imageHeight: height, imageWidth: width, tileHeight: 28, tileWidth: 28, minimumOverlap: overlap)
        let tiles = try plan.extractTiles(from: image)
        // Any processing of the tiles (here a per-tile change, so blending cannot give back the image by accident).
        let processed = Tensor(shape: tiles.shape, scalars: tiles.scalars.enumerated().map { $1 * 0.5 + Float($0 % 7) * 0.01 })
        let whole = try plan.blend(tiles: processed)

        var blender = TilePlan.Blender(plan: plan, channels: channels, pendingRows: 28)
        var streamed = [Float](repeating: 0, count: height * width * channels)
        let rowSize = plan.columnOrigins.count * 28 * 28 * channels
        var cut = [Float](repeating: 0, count: rowSize)
        for (tileRow, top) in plan.rowOrigins.enumerated() {
            let done = blender.finished
            streamed.withUnsafeMutableBufferPointer { blender.finish(upTo: top, into: $0.baseAddress! + done * width * channels) }
            // Only the rows this row of tiles needs, as a streamed pass holds them.
            let rows = top..<min(top + 28, height)
            let held = Array(image.scalars[(rows.lowerBound * width * channels)..<(rows.upperBound * width * channels)])
            held.withUnsafeBufferPointer { plan.cutRow(tileRow, from: $0.baseAddress!, firstRow: top, channels: channels, into: &cut) }
            #expect(cut == Array(tiles.scalars[(tileRow * rowSize)..<((tileRow + 1) * rowSize)]))
            // One column of tiles at a time, as a very wide image goes through in groups.
            let tileSize = 28 * 28 * channels
            for column in plan.columnOrigins.indices {
                processed.withUnsafeBufferPointer {
                    blender.add(tileRow: tileRow, columns: column..<(column + 1), tiles: $0.baseAddress! + tileRow * rowSize + column * tileSize)
                }
            }
        }
        let done = blender.finished
        streamed.withUnsafeMutableBufferPointer { blender.finish(upTo: height, into: $0.baseAddress! + done * width * channels) }
        #expect(streamed.map(\.bitPattern) == whole.scalars.map(\.bitPattern))
    }

    @Test("each tile is the image's window at its origin")
    func tileContent() throws {
        let image = randomImage(height: 61, width: 45, channels: 1)
        let plan = try TilePlan(imageHeight: 61, imageWidth: 45, tileHeight: 28, tileWidth: 28, minimumOverlap: 8)
        let tiles = try plan.extractTiles(from: image)
        let (top, left) = plan.origin(ofTile: 5)  // the bottom-right tile
        #expect(tiles.scalars[5 * 28 * 28 + 27 * 28 + 27] == image.scalars[(top + 27) * 45 + left + 27])
        #expect(top + 28 == 61 && left + 28 == 45)
    }

    @Test("an image smaller than the tile is padded by repeating its edge, and cropped back")
    func smallImage() throws {
        let image = randomImage(height: 10, width: 20, channels: 1)
        let plan = try TilePlan(imageHeight: 10, imageWidth: 20, tileHeight: 28, tileWidth: 28)
        #expect(plan.tileCount == 1)
        let tiles = try plan.extractTiles(from: image)
        #expect(tiles.scalars[27 * 28 + 27] == image.scalars[9 * 20 + 19])  // corner replicated
        #expect(try plan.blend(tiles: tiles) == image)
    }

    @Test("a transform applied through the plan is seamless for a pointwise function")
    func applyTransform() throws {
        let image = randomImage(height: 50, width: 70, channels: 1)
        let plan = try TilePlan(imageHeight: 50, imageWidth: 70, tileHeight: 28, tileWidth: 28, minimumOverlap: 4)
        let brighter = try plan.apply(to: image) { tiles in
            Tensor(shape: tiles.shape, scalars: tiles.scalars.map { $0 * 0.5 + 0.25 })
        }
        let error = zip(brighter.scalars, image.scalars).map { abs($0 - ($1 * 0.5 + 0.25)) }.max() ?? 0
        #expect(error <= 1e-6)
    }

    @Test("impossible plans and wrong shapes are errors")
    func errors() throws {
        #expect(throws: DAEError.self) { try TilePlan(imageHeight: 10, imageWidth: 10, tileHeight: 4, tileWidth: 4, minimumOverlap: 4) }
        #expect(throws: DAEError.self) { try TilePlan(imageHeight: 0, imageWidth: 10, tileHeight: 4, tileWidth: 4) }
        let plan = try TilePlan(imageHeight: 10, imageWidth: 10, tileHeight: 4, tileWidth: 4)
        #expect(throws: DAEError.self) { try plan.extractTiles(from: Tensor(zeros: [1, 10, 9, 1])) }
        #expect(throws: DAEError.self) { try plan.blend(tiles: Tensor(zeros: [plan.tileCount + 1, 4, 4, 1])) }
    }

    @Test("the blending window is symmetric, peaks in the middle and never reaches zero")
    func window() {
        let w = TilePlan.window(length: 28)
        #expect(w == Array(w.reversed()))
        #expect(w.min() ?? 0 >= TilePlan.windowFloor)
        #expect(w[13] > w[0])
    }
}
