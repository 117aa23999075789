/// What one image file may make ``ImageReader`` spend, checked from its
/// header before anything large is allocated.
extension ImageReader {
    /// The bounds a hostile or merely huge file meets.
    ///
    /// The memory budget covers what must be held for the whole image while
    /// rows are read: the coefficient buffer of a progressive or multi-scan
    /// JPEG (2 bytes per sample, in 8 × 8 blocks), and the decoded image
    /// itself when it cannot be produced row by row (an interlaced PNG, a
    /// JPEG whose EXIF orientation turns or flips it top to bottom). A file
    /// that needs more is refused when it is opened, with the reason.
    public struct Limits: Sendable, Equatable {
        /// The most bytes held for the whole image at once (default 512 MiB).
        public var wholeImageBytes: Int
        /// The most scans a JPEG may have (default 100; a progressive file
        /// usually has about 10). Each scan is a pass over the whole
        /// coefficient buffer: thousands of them would take minutes.
        public var maximumScans: Int
        /// The largest single ancillary PNG chunk libpng may allocate (8 MiB):
        /// a header that claims a 2 GB text chunk is refused, not allocated.
        public var chunkBytes: Int

        /// Limits with the given bounds (see the properties; defaults as ``default``).
        public init(wholeImageBytes: Int = 512 << 20, maximumScans: Int = 100, chunkBytes: Int = 8 << 20) {
            self.wholeImageBytes = wholeImageBytes
            self.maximumScans = maximumScans
            self.chunkBytes = chunkBytes
        }

        /// 512 MiB for the whole image, 100 scans, 8 MiB per PNG chunk.
        public static let `default` = Limits()
    }
}
