/// Element-wise loops written with 8-wide SIMD vectors.
///
/// The compiler does not vectorise these loops on its own (it cannot rule
/// out aliasing, and the ReLU mask is a data-dependent branch that
/// mispredicts half the time), and they run over every activation of every
/// layer, so they are written out: 8 lanes at a time, then a scalar tail.
enum VectorKernels {
    typealias Vector = SIMD8<Float>
    static let width = Vector.scalarCount

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    /// Four lanes, where a kernel needs more vectors in registers than 8-wide ones allow.
    @inline(__always)
    static func load4(_ pointer: UnsafePointer<Float>) -> SIMD4<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD4<Float>.self)
    }

    @inline(__always)
    static func store(_ vector: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: Vector.self)
    }

    /// `values[i] = max(values[i], 0)`.
    static func relu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + width <= count {
            var v = load(values + i)
            v.replace(with: 0, where: v .< 0)   // NaN stays NaN, as in TensorFlow, so divergence shows
            store(v, values + i)
            i += width
        }
        while i < count { if values[i] < 0 { values[i] = 0 }; i += 1 }
    }

    /// `gradient[i] = y[i] > 0 ? gradient[i] : 0`.
    static func reluBackward(output y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + width <= count {
            var g = load(gradient + i)
            g.replace(with: 0, where: .!(load(y + i) .> 0))
            store(g, gradient + i)
            i += width
        }
        while i < count { gradient[i] = y[i] > 0 ? gradient[i] : 0; i += 1 }
    }

    /// `gradient[i] *= y[i]·(1 − y[i])`.
    static func sigmoidBackward(output y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + width <= count {
            let v = load(y + i)
            store(load(gradient + i) * v * (1 - v), gradient + i)
            i += width
        }
        while i < count { gradient[i] *= y[i] * (1 - y[i]); i += 1 }
    }

    /// `destination[i] += source[i]`.
    @inline(__always)
    static func add(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + width <= count {
            store(load(destination + i) + load(source + i), destination + i)
            i += width
        }
        while i < count { destination[i] += source[i]; i += 1 }
    }

    /// `destination[i] = source[i]`, without a call for short runs (im2col
    /// copies runs of `kw · channels` floats, often only a few).
    @inline(__always)
    static func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        guard count < 64 else { destination.update(from: source, count: count); return }
        var i = 0
        while i + width <= count {
            store(load(source + i), destination + i)
            i += width
        }
        while i < count { destination[i] = source[i]; i += 1 }
    }

    /// One Adam update of `count` weights, in Keras's form:
    ///
    ///     m += (g − m)·(1 − β1);  v += (g² − v)·(1 − β2);  w −= α·m / (√v + ε)
    ///
    /// Every lane does the same IEEE operations as the scalar tail, so the
    /// result does not depend on where the 8-lane blocks fall.
    static func adamStep(weights w: UnsafeMutablePointer<Float>, firstMoments m: UnsafeMutablePointer<Float>,
                         secondMoments v: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, count: Int,
                         beta1: Float, beta2: Float, epsilon: Float, alpha: Float) {
        let (keep1, keep2) = (1 - beta1, 1 - beta2)
        var i = 0
        while i + width <= count {
            let g = load(gradient + i)
            let m1 = load(m + i) + (g - load(m + i)) * keep1
            let v1 = load(v + i) + (g * g - load(v + i)) * keep2
            store(m1, m + i)
            store(v1, v + i)
            store(load(w + i) - (m1 * alpha) / (v1.squareRoot() + epsilon), w + i)
            i += width
        }
        while i < count {
            let g = gradient[i]
            m[i] += (g - m[i]) * keep1
            v[i] += (g * g - v[i]) * keep2
            w[i] -= (m[i] * alpha) / (v[i].squareRoot() + epsilon)
            i += 1
        }
    }

    /// `rows[r, c] = vector[c]`: the bias of every output pixel, before a GEMM accumulates onto it.
    static func broadcastRows(_ vector: UnsafePointer<Float>, into rows: UnsafeMutablePointer<Float>, rowCount: Int, channels: Int) {
        var row = rows
        for _ in 0..<rowCount {
            copy(vector, to: row, count: channels)
            row += channels
        }
    }

    /// `sums[c] += Σ_r rows[r, c]`: column sums of a `rows × channels` matrix.
    static func addColumnSums(of rows: UnsafePointer<Float>, rowCount: Int, channels: Int, into sums: UnsafeMutablePointer<Float>) {
        var row = rows
        for _ in 0..<rowCount {
            add(row, into: sums, count: channels)
            row += channels
        }
    }
}
