import Foundation

/// Adam exactly as Keras 3 computes it, with its moments in two flat
/// buffers (one slot per parameter, in the network's order).
///
/// At step `t` (from 1), for a weight `w` with gradient `g`:
///
///     m ← m + (g − m)·(1 − β₁)
///     v ← v + (g² − v)·(1 − β₂)
///     α = lr · sqrt(1 − β₂ᵗ) / (1 − β₁ᵗ)
///     w ← w − α·m / (sqrt(v) + ε)
///
/// ε is added to `sqrt(v)` *before* bias correction (Keras's convention,
/// not the paper's or PyTorch's, which add it to `sqrt(v̂)`); the bias
/// correction is folded into the step size α. At step 1 this moves each
/// weight by `lr·g / (|g| + ε/sqrt(1 − β₂))`. A zero gradient moves nothing.
public struct Adam: Sendable, Equatable {
    /// The hyper-parameters; Keras's defaults.
    public struct Settings: Sendable, Equatable, Hashable, Codable {
        public var learningRate: Float
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float

        /// Keras's defaults: lr 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7.
        public init(learningRate: Float = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
        }

        /// Throws unless every value is finite, the rate positive, the betas in [0, 1) and ε ≥ 0.
        public func validate() throws {
            guard learningRate.isFinite, learningRate > 0 else {
                throw DAEError.invalidConfiguration("learning rate \(learningRate) must be positive and finite")
            }
            guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else {
                throw DAEError.invalidConfiguration("Adam betas (\(beta1), \(beta2)) must lie in [0, 1)")
            }
            guard epsilon.isFinite, epsilon >= 0 else {
                throw DAEError.invalidConfiguration("Adam epsilon \(epsilon) must be finite and non-negative")
            }
        }
    }

    public var settings: Settings
    /// Steps taken so far.
    public private(set) var step: Int

    /// Where one parameter's moments lie in the flat buffers.
    private struct Slot: Sendable, Equatable {
        var name: String
        var shape: [Int]
        var offset: Int
        var count: Int { Tensor.elementCount(of: shape) }
    }
    /// The parameters' slots, in the order of the flat buffers: the network's
    /// parameter order once ``apply(to:gradients:learningRateFactor:)`` has run.
    private var slots: [Slot] = []
    /// Slot index by parameter name.
    private var slotIndex: [String: Int] = [:]
    /// The first and second moments of every parameter, one flat buffer each.
    private var m: [Float] = [], v: [Float] = []

    /// First moments by parameter name (copies of the flat state).
    public var firstMoments: [String: Tensor] { tensors(m) }
    /// Second moments by parameter name (copies of the flat state).
    public var secondMoments: [String: Tensor] { tensors(v) }

    private func tensors(_ buffer: [Float]) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: slots.filter { !$0.name.isEmpty }.map { slot in
            (slot.name, Tensor(shape: slot.shape, scalars: Array(buffer[slot.offset..<(slot.offset + slot.count)])))
        })
    }

    /// A fresh optimizer with zero moments.
    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.step = 0
    }

    /// The largest step count a resumed optimizer accepts: 2⁵³ (exact as a
    /// `Double`, and so far beyond any real run that a larger one is damage).
    public static let maximumStep = 1 << 53

    /// An optimizer resumed from saved state; every name needs both moments
    /// of the same shape, the first moments finite and the second finite and
    /// non-negative (they are running means of squares), and the step in
    /// `0...maximumStep`. Each problem throws ``DAEError/invalidArgument(_:)`` naming the tensor.
    public init(settings: Settings, step: Int, firstMoments: [String: Tensor], secondMoments: [String: Tensor]) throws {
        guard step >= 0 else { throw DAEError.invalidArgument("Adam step \(step) is negative") }
        guard step <= Self.maximumStep else {
            throw DAEError.invalidArgument("Adam step \(step) exceeds the limit of \(Self.maximumStep) steps")
        }
        guard Set(firstMoments.keys) == Set(secondMoments.keys) else {
            throw DAEError.invalidArgument("Adam state: first and second moments name different parameters")
        }
        for (name, m) in firstMoments {
            try secondMoments[name]?.checkShape(m.shape, "Adam second moment of \(name)")
            if let index = m.scalars.firstIndex(where: { !$0.isFinite }) {
                throw DAEError.invalidArgument("Adam first moment of '\(name)' holds \(m.scalars[index]) at element \(index)")
            }
        }
        for (name, v) in secondMoments {
            if let index = v.scalars.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw DAEError.invalidArgument("Adam second moment of '\(name)' holds \(v.scalars[index]) at element \(index) "
                    + "(it must be finite and non-negative)")
            }
        }
        self.settings = settings
        self.step = step
        // Sorted by name until the first step lays them out in the network's order.
        for name in firstMoments.keys.sorted() {
            addSlot(name, shape: firstMoments[name]!.shape)
            m += firstMoments[name]!.scalars
            v += secondMoments[name]!.scalars
        }
    }

    private mutating func addSlot(_ name: String, shape: [Int]) {
        slotIndex[name] = slots.count
        slots.append(Slot(name: name, shape: shape, offset: m.count))
    }

    /// Equal settings, step and moments (whatever the order of the flat buffers).
    public static func == (a: Adam, b: Adam) -> Bool {
        a.settings == b.settings && a.step == b.step && a.firstMoments == b.firstMoments && a.secondMoments == b.secondMoments
    }

    /// Starts a new step: advances the step count and returns its step size α.
    public mutating func beginStep() -> Float {
        step += 1
        let t = Float(step)
        return settings.learningRate * (1 - Foundation.pow(settings.beta2, t)).squareRoot()
            / (1 - Foundation.pow(settings.beta1, t))
    }

    /// One Adam step of every parameter of `network`, in one loop over four
    /// flat buffers in the same order: the network's parameters, `gradient`
    /// (∂L/∂parameter, ``Sequential/parameterCount`` floats in
    /// ``Sequential/parameterNames`` order: a workspace's or the engine's
    /// gradient buffer) and the two moments. `learningRateFactor` scales the
    /// step (a schedule's factor; Adam's step is linear in the learning rate).
    public mutating func apply(to network: inout Sequential, gradient: UnsafePointer<Float>, learningRateFactor: Float = 1) {
        layOut(like: network)
        let alpha = beginStep() * learningRateFactor
        let (b1, b2, epsilon) = (settings.beta1, settings.beta2, settings.epsilon)
        guard network.parameterCount > 0 else { return }
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                network.updateParameterStorage { w in
                    precondition(m.count == w.count, "Adam's moments are laid out for \(m.count) parameters, not \(w.count)")
                    VectorKernels.adamStep(weights: w.baseAddress!, firstMoments: m.baseAddress!, secondMoments: v.baseAddress!,
                                           gradient: gradient, count: w.count, beta1: b1, beta2: b2, epsilon: epsilon, alpha: alpha)
                }
            }
        }
    }

    /// ``apply(to:gradient:learningRateFactor:)`` with the gradients given
    /// per parameter (`gradients[i]`: ∂L/∂(parameter `i` in
    /// ``Sequential/parameterNames`` order)), gathered into one buffer first.
    @available(*, deprecated, message: "pass one flat gradient buffer: apply(to:gradient:learningRateFactor:)")
    public mutating func apply(to network: inout Sequential, gradients: [UnsafeMutablePointer<Float>],
                               learningRateFactor: Float = 1) {
        var flat = [Float](repeating: 0, count: network.parameterCount)
        let counts = network.bareLayers.flatMap { $0.parameterShapes.map(Tensor.elementCount(of:)) }
        flat.withUnsafeMutableBufferPointer { flat in
            var offset = 0
            for (pointer, count) in zip(gradients, counts) {
                (flat.baseAddress! + offset).update(from: pointer, count: count)
                offset += count
            }
        }
        flat.withUnsafeBufferPointer { apply(to: &network, gradient: $0.baseAddress ?? Sequential.noParameters, learningRateFactor: learningRateFactor) }
    }

    /// Makes the flat buffers follow `network`'s parameter order (names and
    /// shapes), keeping the moments of every parameter already known and
    /// starting the others at zero. Nothing moves when they already do.
    private mutating func layOut(like network: Sequential) {
        if isLaidOut(like: network) { return }
        var shapes: [(String, [Int])] = []
        network.bareLayers.forEach { layer in
            for (name, shape) in zip(layer.parameterNames, layer.parameterShapes) { shapes.append(("\(layer.name).\(name)", shape)) }
        }
        let (oldSlots, oldIndex, oldM, oldV) = (slots, slotIndex, m, v)
        slots = []
        slotIndex = [:]
        m = []
        v = []
        for (name, shape) in shapes {
            addSlot(name, shape: shape)
            if let old = oldIndex[name].map({ oldSlots[$0] }), old.shape == shape {
                m += oldM[old.offset..<(old.offset + old.count)]
                v += oldV[old.offset..<(old.offset + old.count)]
            } else {
                m += [Float](repeating: 0, count: Tensor.elementCount(of: shape))
                v += [Float](repeating: 0, count: Tensor.elementCount(of: shape))
            }
        }
    }

    /// Whether the slots already follow `network`'s parameters (each step's
    /// check, comparing in place instead of building every parameter's name).
    private func isLaidOut(like network: Sequential) -> Bool {
        var index = 0
        for layer in network.bareLayers {
            for (name, shape) in zip(layer.parameterNames, layer.parameterShapes) {
                guard index < slots.count, slots[index].shape == shape,
                      slots[index].name.count == layer.name.count + 1 + name.count,
                      slots[index].name.hasPrefix(layer.name), slots[index].name.hasSuffix(name) else { return false }
                index += 1
            }
        }
        return index == slots.count
    }

    /// Updates `weights` in place from `gradient` with step size `alpha` (from
    /// ``beginStep()``): one parameter at a time, for a caller that holds
    /// its parameters outside a ``Sequential``.
    public mutating func update(_ name: String, weights: inout Tensor, gradient: UnsafePointer<Float>, alpha: Float) {
        let count = weights.count
        if slotIndex[name].map({ slots[$0].count }) != count {
            if let stale = slotIndex[name] {  // a parameter whose shape changed starts again (the old slot is unnamed)
                slots[stale].name = ""
                slotIndex[name] = nil
            }
            addSlot(name, shape: weights.shape)
            m += [Float](repeating: 0, count: count)
            v += [Float](repeating: 0, count: count)
        }
        let offset = slots[slotIndex[name]!].offset
        let (b1, b2, epsilon) = (settings.beta1, settings.beta2, settings.epsilon)
        weights.withUnsafeMutableBufferPointer { w in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    VectorKernels.adamStep(weights: w.baseAddress!, firstMoments: m.baseAddress! + offset,
                                           secondMoments: v.baseAddress! + offset, gradient: gradient, count: count,
                                           beta1: b1, beta2: b2, epsilon: epsilon, alpha: alpha)
                }
            }
        }
    }
}
