/// Conversions of decoded samples that ``PixelConversion`` does not cover:
/// 16-bit samples (to bytes, or to floats at full precision) and mirrored rows.
enum SampleConversion {
    /// `byte / 255` for every byte value.
    static let unit: [Float] = (0...255).map { Float($0) / 255 }

    /// Rounds `samples` 16-bit samples at `buffer` to 8 bits, in place: the
    /// bytes end up in the first `samples` bytes. `(v · 255 + 32767) / 65535`
    /// is the nearest byte, as libpng's `png_set_scale_16` gives.
    static func narrow(_ buffer: UnsafeMutablePointer<UInt8>, samples: Int) {
        let raw = UnsafeMutableRawPointer(buffer)
        for i in 0..<samples {
            let value = UInt32(raw.load(fromByteOffset: 2 * i, as: UInt16.self))
            buffer[i] = UInt8((value * 255 + 32767) / 65535)  // i ≤ 2i: nothing is overwritten before it is read
        }
    }

    /// Converts `pixels` pixels of `samples` interleaved 16-bit samples (1
    /// gray, 2 gray + alpha, 3 RGB, 4 RGBA) to `channels` (1 or 3) values in
    /// [0, 1] at `destination`, as ``PixelConversion/convert(_:samples:pixels:toChannels:into:)``
    /// does for bytes but without rounding: alpha over black, BT.601 luma, gray repeated.
    static func convert16(_ source: UnsafePointer<UInt16>, samples: Int, pixels: Int, toChannels channels: Int,
                          into destination: UnsafeMutablePointer<Float>) {
        let colorSamples = samples >= 3 ? 3 : 1
        let hasAlpha = samples == 2 || samples == 4
        // Divided, not multiplied by 1/65535: exactly `sample / 65535`, as a caller computes it.
        let full: Float = 65535
        for p in 0..<pixels {
            let s = source + p * samples
            var (r, g, b) = colorSamples == 3 ? (Float(s[0]), Float(s[1]), Float(s[2])) : (Float(s[0]), Float(s[0]), Float(s[0]))
            if hasAlpha {
                let alpha = Float(s[samples - 1]) / full
                (r, g, b) = (r * alpha, g * alpha, b * alpha)
            }
            let d = destination + p * channels
            if channels == 3 {
                d[0] = r / full
                d[1] = g / full
                d[2] = b / full
            } else if colorSamples == 1 {
                d[0] = r / full
            } else {
                d[0] = min((0.299 * r + 0.587 * g + 0.114 * b) / full, 1)
            }
        }
    }

    /// Reverses the pixels of each of `rows` rows of `width` pixels of `pixelBytes` bytes, in place.
    static func mirror(_ buffer: UnsafeMutableRawPointer, rows: Int, width: Int, pixelBytes: Int) {
        for row in 0..<rows {
            let start = buffer + row * width * pixelBytes
            var (left, right) = (0, width - 1)
            while left < right {
                for k in 0..<pixelBytes {
                    let a = start.load(fromByteOffset: left * pixelBytes + k, as: UInt8.self)
                    let b = start.load(fromByteOffset: right * pixelBytes + k, as: UInt8.self)
                    start.storeBytes(of: b, toByteOffset: left * pixelBytes + k, as: UInt8.self)
                    start.storeBytes(of: a, toByteOffset: right * pixelBytes + k, as: UInt8.self)
                }
                left += 1
                right -= 1
            }
        }
    }
}
