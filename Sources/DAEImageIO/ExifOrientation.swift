/// The EXIF `Orientation` tag (0x0112) of a photograph: how the stored
/// pixels must be turned to be shown the right way up, as browsers and
/// photo viewers apply it.
///
/// A phone held upright stores its picture sideways and says so here (6:
/// turn 90° clockwise). ``ImageReader`` applies it, so rows come out as the
/// picture is shown.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    /// 1: as stored.
    case up = 1
    /// 2: mirrored left to right.
    case upMirrored = 2
    /// 3: turned 180°.
    case down = 3
    /// 4: mirrored top to bottom.
    case downMirrored = 4
    /// 5: mirrored along the main diagonal (transposed).
    case leftMirrored = 5
    /// 6: turned 90° clockwise.
    case right = 6
    /// 7: mirrored along the other diagonal (transversed).
    case rightMirrored = 7
    /// 8: turned 90° counter-clockwise.
    case left = 8

    /// Whether the shown image has the stored one's width as its height (5–8).
    public var swapsSides: Bool { rawValue >= 5 }

    /// Whether the shown rows can be produced from the stored rows in order,
    /// one at a time (1 and 2); the others need the whole image first.
    public var streamsByRows: Bool { self == .up || self == .upMirrored }

    /// The stored pixel (column, row) shown at (`x`, `y`), for a stored image of `width` × `height`.
    @inline(__always)
    public func storedPixel(x: Int, y: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        switch self {
        case .up: return (x, y)
        case .upMirrored: return (width - 1 - x, y)
        case .down: return (width - 1 - x, height - 1 - y)
        case .downMirrored: return (x, height - 1 - y)
        case .leftMirrored: return (y, x)
        case .right: return (y, height - 1 - x)
        case .rightMirrored: return (width - 1 - y, height - 1 - x)
        case .left: return (width - 1 - y, x)
        }
    }

    /// The orientation in the TIFF structure of an APP1 Exif segment (the
    /// bytes after `Exif\0\0`: byte order `II` or `MM`, 42, the offset of
    /// IFD0, then its entries), or nil when it has none or is malformed.
    /// Every offset is checked against the data: hostile bytes give nil, never a trap.
    public static func parse(tiff bytes: UnsafeRawBufferPointer) -> ExifOrientation? {
        guard bytes.count >= 8 else { return nil }
        let little: Bool
        switch (bytes[0], bytes[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return nil
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at <= bytes.count - 2 else { return nil }
            let (a, b) = (Int(bytes[at]), Int(bytes[at + 1]))
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ at: Int) -> Int? {
            guard let low = u16(little ? at : at + 2), let high = u16(little ? at + 2 : at) else { return nil }
            return high << 16 | low
        }
        guard u16(2) == 42, let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for entry in 0..<entries {
            let at = ifd + 2 + 12 * entry
            guard let tag = u16(at) else { return nil }
            guard tag == 0x0112 else { continue }
            // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
            guard u16(at + 2) == 3, let value = u16(at + 8) else { return nil }
            return ExifOrientation(rawValue: value)
        }
        return nil
    }
}
