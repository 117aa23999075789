import Foundation

/// The working memory and Gaussian weights of ``ImageMetrics/ssim(_:_:)``
/// for one image size: reused across images and channels so the loop over
/// a batch allocates once.
struct SSIMWindow {
    /// The window side, 11 pixels (radius 5 = int(3.5·σ + 0.5), as SciPy truncates).
    static let size = 11
    /// σ of the Gaussian window.
    static let sigma = 1.5
    /// `C1 = (K1·L)²` with K1 = 0.01, L = 1.
    static let c1 = 0.01 * 0.01
    /// `C2 = (K2·L)²` with K2 = 0.03, L = 1.
    static let c2 = 0.03 * 0.03

    /// The normalised 1-D Gaussian weights, `exp(-x²/2σ²)` for x in -5…5, summing to 1.
    static let weights: [Double] = {
        let radius = size / 2
        let raw = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
        let sum = raw.reduce(0, +)
        return raw.map { $0 / sum }
    }()

    private let height: Int
    private let width: Int
    private let outWidth: Int
    private let outHeight: Int
    /// Five planes (x, y, x², y², xy), each `height × outWidth`, filtered along rows.
    private var rows: [Double]

    /// Prepares for `height × width` images; both must be at least ``size``.
    init(height: Int, width: Int) {
        self.height = height
        self.width = width
        outWidth = width - SSIMWindow.size + 1
        outHeight = height - SSIMWindow.size + 1
        rows = [Double](repeating: 0, count: 5 * height * outWidth)
    }

    /// The mean SSIM over valid window positions of one channel of two images;
    /// pixel `(r, c)` is at `x[(r·width + c)·stride]`.
    mutating func meanSSIM(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, stride: Int) -> Double {
        let (height, width, outWidth, outHeight) = (self.height, self.width, self.outWidth, self.outHeight)
        let plane = height * outWidth
        return SSIMWindow.weights.withUnsafeBufferPointer { g in
            rows.withUnsafeMutableBufferPointer { rows in
                // Horizontal pass: the five local sums along each row.
                for r in 0..<height {
                    for c in 0..<outWidth {
                        var sx = 0.0, sy = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                        for k in 0..<SSIMWindow.size {
                            let index = (r * width + c + k) * stride
                            let a = Double(x[index]), b = Double(y[index]), weight = g[k]
                            sx += weight * a
                            sy += weight * b
                            sxx += weight * a * a
                            syy += weight * b * b
                            sxy += weight * a * b
                        }
                        let o = r * outWidth + c
                        rows[o] = sx
                        rows[plane + o] = sy
                        rows[2 * plane + o] = sxx
                        rows[3 * plane + o] = syy
                        rows[4 * plane + o] = sxy
                    }
                }
                // Vertical pass and the SSIM formula at each valid position.
                var total = 0.0
                for r in 0..<outHeight {
                    for c in 0..<outWidth {
                        var mx = 0.0, my = 0.0, mxx = 0.0, myy = 0.0, mxy = 0.0
                        for k in 0..<SSIMWindow.size {
                            let o = (r + k) * outWidth + c, weight = g[k]
                            mx += weight * rows[o]
                            my += weight * rows[plane + o]
                            mxx += weight * rows[2 * plane + o]
                            myy += weight * rows[3 * plane + o]
                            mxy += weight * rows[4 * plane + o]
                        }
                        let vx = mxx - mx * mx, vy = myy - my * my, vxy = mxy - mx * my
                        let numerator = (2 * mx * my + SSIMWindow.c1) * (2 * vxy + SSIMWindow.c2)
                        let denominator = (mx * mx + my * my + SSIMWindow.c1) * (vx + vy + SSIMWindow.c2)
                        total += numerator / denominator
                    }
                }
                return total / Double(outHeight * outWidth)
            }
        }
    }
}
