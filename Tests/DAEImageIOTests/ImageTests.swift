import DAEImageIO
import DAELayers
import Testing

@Suite("Image and its conversions")
struct ImageTests {
    @Test("an image holds 1 or 3 channels and exactly width·height·channels bytes")
    func validation() throws {
        #expect(throws: DAEError.self) { try Image(width: 2, height: 2, channels: 2, pixels: [UInt8](repeating: 0, count: 8)) }
        #expect(throws: DAEError.self) { try Image(width: 2, height: 2, channels: 1, pixels: [1, 2, 3]) }
        #expect(throws: DAEError.self) { try Image(width: 0, height: 2, channels: 1, pixels: []) }
        let image = try Image(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 4, 5, 6])
        #expect(image[0, 1, 2] == 6)
    }

    @Test("tensor values are clamped to [0, 1] and rounded to the nearest byte")
    func fromTensor() throws {
        let tensor = Tensor(shape: [1, 1, 6, 1], scalars: [-0.5, 0, 0.5, 1, 2, .nan])
        #expect(try Image(tensor: tensor, index: 0).pixels == [0, 0, 128, 255, 255, 0])
    }

    @Test("index picks one image of a batch")
    func batchIndex() throws {
        let batch = Tensor(shape: [3, 1, 2, 1], scalars: [0, 0, 1, 1, 0, 1])
        #expect(try Image(tensor: batch, index: 1).pixels == [255, 255])
        #expect(throws: DAEError.self) { try Image(tensor: batch, index: 3) }
        #expect(throws: DAEError.self) { try Image(tensor: Tensor(zeros: [1, 2, 2, 2]), index: 0) }
    }

    @Test("Image → Tensor → Image is the identity", arguments: [1, 3])
    func roundTrip(channels: Int) throws {
        let image = try patternImage(width: 5, height: 3, channels: channels)
        let tensor = try image.tensor(channels: channels)
        #expect(tensor.shape == [1, 3, 5, channels])
        #expect(tensor.scalars.allSatisfy { (0...1).contains($0) })
        #expect(try Image(tensor: tensor, index: 0) == image)
    }

    @Test("gray → RGB copies the value into every channel")
    func grayToRGB() throws {
        let gray = try Image(width: 2, height: 1, channels: 1, pixels: [7, 200])
        #expect(try gray.converted(toChannels: 3).pixels == [7, 7, 7, 200, 200, 200])
        #expect(try gray.tensor(channels: 3).scalars == [7, 7, 7, 200, 200, 200].map { Float($0) / 255 })
    }

    @Test("RGB → gray uses the BT.601 luma 0.299 R + 0.587 G + 0.114 B")
    func rgbToGray() throws {
        let rgb = try Image(
            width: 4, height: 1, channels: 3,
            pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        // 76.245 → 76, 149.685 → 150, 29.07 → 29, 255 → 255
        #expect(try rgb.converted(toChannels: 1).pixels == [76, 150, 29, 255])
        #expect(try rgb.tensor(channels: 1).shape == [1, 1, 4, 1])
        #expect(throws: DAEError.self) { try rgb.converted(toChannels: 4) }
    }

    @Test("images of one size stack into a batch")
    func batch() throws {
        let a = try Image(width: 2, height: 1, channels: 1, pixels: [0, 255])
        let b = try Image(width: 2, height: 1, channels: 3, pixels: [255, 255, 255, 0, 0, 0])
        let batch = try Image.batch([a, b], channels: 1)
        #expect(batch.shape == [2, 1, 2, 1])
        #expect(batch.scalars == [0, 1, 1, 0])
        let other = try Image(width: 1, height: 1, channels: 1, pixels: [0])
        #expect(throws: DAEError.self) { try Image.batch([a, other], channels: 1) }
    }
}
