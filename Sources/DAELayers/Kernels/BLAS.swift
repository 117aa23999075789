import COpenBLAS

/// The one door to OpenBLAS: a single-precision GEMM wrapper and the
/// thread controls. Every matrix product in the library goes through
/// ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
public enum BLAS {
    /// `C[m, n] = alpha · op(A)[m, k] × op(B)[k, n] + beta · C`, row-major.
    ///
    /// `op(X)` is `X` or its transpose. Leading dimensions are row strides of
    /// the matrices as stored (`lda` is the stored row length of A: `k`
    /// untransposed, `m` transposed). `beta == 1` accumulates into `C`.
    @inlinable
    public static func gemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(lda), b, Int32(ldb),
            beta, c, Int32(ldc))
    }

    /// The number of threads OpenBLAS uses inside one call.
    ///
    /// The library does its own threading (one OpenBLAS thread per worker,
    /// the batch split across workers), so the training and inference
    /// engines set this to 1: idle OpenBLAS threads spin and steal CPU from
    /// the workers. Set it higher only when calling
    /// ``gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` from one thread.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// OpenBLAS's build configuration, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64`.
    public static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// The CPU core OpenBLAS selected its kernels for, e.g. `Cooperlake`.
    public static var coreName: String {
        guard let text = openblas_get_corename() else { return "unknown" }
        return String(cString: text)
    }

    /// OpenBLAS's threading model: `sequential`, `pthreads` or `OpenMP`.
    public static var threading: String {
        switch openblas_get_parallel() {
        case 0: return "sequential"
        case 1: return "pthreads"
        case 2: return "OpenMP"
        default: return "unknown"
        }
    }
}
