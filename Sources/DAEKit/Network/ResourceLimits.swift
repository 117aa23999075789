import DAELayers
import Foundation

/// The limits on what a model may ask of the machine, checked before
/// anything is allocated.
///
/// Every size a configuration implies (each layer's output, each patch
/// matrix, the parameters with their gradients and Adam's two moments) is
/// computed with overflow-checked arithmetic from the configuration alone,
/// so a configuration from a flag, a `Configuration` value or a
/// checkpoint's metadata that cannot be allocated is refused with
/// `DAEError/invalidConfiguration(_:)` naming the number, instead of
/// trapping or exhausting memory later.
///
/// ```swift
/// let huge = DenoisingAutoencoder.Configuration(latentDim: 1_000_000_000)
/// try huge.validate()   // throws: "… needs 100 GB to train on 1 image …; the limit is 12 GB (half of the physical memory)"
/// ```
public enum ResourceLimits {
    /// The machine's physical memory in bytes.
    public static let physicalMemory = Int(clamping: ProcessInfo.processInfo.physicalMemory)

    /// The most memory one model may need to train on one image, in bytes:
    /// half of the physical memory. Its parameters (with gradients and
    /// Adam's moments), one image's activations and patch matrices all count.
    public static var memoryBudget: Int { max(physicalMemory / 2, 1 << 30) }

    /// `bytes` as a short human-readable figure (`12.0 GB`, `340 MB`).
    static func format(bytes: Int) -> String {
        let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (scale, unit) in units where Double(bytes) >= scale {
            return String(format: Double(bytes) >= 10 * scale ? "%.0f %@" : "%.1f %@", Double(bytes) / scale, unit)
        }
        return "\(bytes) bytes"
    }
}

extension DenoisingAutoencoder.Configuration {
    /// What a configuration needs, in elements (an overflow makes the whole estimate nil).
    struct ResourceEstimate {
        /// Trainable scalars.
        var parameters: Int
        /// Floats one image needs: every layer's output and patch matrix, and the two gradient buffers.
        var elementsPerImage: Int

        /// Bytes to train on `batch` images: parameters four times (weights,
        /// gradients, Adam's m and v) and `batch` images' buffers; nil on overflow.
        func bytes(batch: Int) -> Int? {
            var total = CheckedSum()
            total.add(4, parameters)
            total.add(batch, elementsPerImage)
            guard let elements = total.value else { return nil }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
            return overflow ? nil : bytes
        }
    }

    /// The sizes of the network this configuration builds, computed layer
    /// by layer without allocating anything; nil when a count overflows `Int`.
    /// Call it on a configuration whose sizes are positive.
    func resourceEstimate() -> ResourceEstimate? {
        guard inputShape.count == 3, kernelSize > 0 else { return nil }
        if case .autoencoder(_, let stride) = kind, stride <= 0 { return nil }
        var parameters = CheckedSum(), perImage = CheckedSum()
        var widest = CheckedSum()  // its maximum: the widest layer
        let input = networkInputShape
        widest.add(input[0], input[1], input[2])
        let specs = layerSpecs
        guard let shapes = specs.shapes(input: input) else { return nil }
        for (spec, (layerInput, output)) in zip(specs, zip([input] + shapes, shapes)) {
            spec.estimate(input: layerInput, output: output, parameters: &parameters, perImage: &perImage)
            widest.add(output.count == 3 ? output[0] : 1, output.count == 3 ? output[1] : 1, output.last ?? 0)
        }
        if target == .noise { perImage.add(inputShape[0], inputShape[1], inputShape[2]) }  // the clipped residual output
        if let widest = widest.maximum { perImage.add(2, widest) }  // the back-propagated gradients
        guard let parameterCount = parameters.value, widest.maximum != nil, let elements = perImage.value else { return nil }
        return ResourceEstimate(parameters: parameterCount, elementsPerImage: elements)
    }

    /// The number of weights of the network this configuration builds, or
    /// nil when it overflows `Int`.
    func checkedParameterCount() -> Int? { resourceEstimate()?.parameters }

    /// Throws `DAEError/invalidConfiguration(_:)` when training this model on
    /// `batch` images at a time needs more than ``ResourceLimits/memoryBudget``
    /// (or a count overflows), naming the figures. `validate()` checks one image.
    public func checkResources(batch: Int = 1) throws {
        let budget = ResourceLimits.memoryBudget
        let limit = "the limit is \(ResourceLimits.format(bytes: budget)) (half of the physical memory)"
        guard let estimate = resourceEstimate() else {
            throw DAEError.invalidConfiguration(
                "\(shapeDescription) is too large: its sizes overflow a 64-bit count; \(limit)")
        }
        guard let bytes = estimate.bytes(batch: batch), bytes <= budget else {
            let needed = estimate.bytes(batch: batch).map(ResourceLimits.format(bytes:)) ?? "more than 9 EB"
            throw DAEError.invalidConfiguration(
                "\(shapeDescription) needs \(needed) to train on \(batch) image\(batch == 1 ? "" : "s") "
                    + "(\(estimate.parameters) parameters, \(estimate.elementsPerImage) floats per image); \(limit)")
        }
    }

    /// `input [28, 28, 1], filters [32, 64], kernel 3, stride 2, latent 16`, for messages.
    private var shapeDescription: String {
        switch kind {
        case .residual:
            "the residual model (input \(inputShape), filters \(layerFilters), kernel \(kernelSize))"
        case .autoencoder(let latentDim, let stride):
            "the model (input \(inputShape), filters \(layerFilters), kernel \(kernelSize), stride \(stride), latent \(latentDim))"
        }
    }
}

/// The sum and the largest of products of `Int`s, remembering whether any step overflowed.
struct CheckedSum {
    private var total = 0
    private var largest = 0
    private var overflowed = false

    /// The sum of the products, or nil after an overflow.
    var value: Int? { overflowed ? nil : total }
    /// The largest product, or nil after an overflow.
    var maximum: Int? { overflowed ? nil : largest }

    /// Adds the product of `factors`.
    mutating func add(_ factors: Int...) {
        guard let product = Self.product(factors) else { overflowed = true; return }
        let (sum, overflow) = total.addingReportingOverflow(product)
        total = sum
        largest = max(largest, product)
        overflowed = overflowed || overflow
    }

    /// The product of `factors`, or nil when it overflows.
    static func product(_ factors: Int...) -> Int? { product(factors) }

    static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = next
        }
        return result
    }
}
