/// The buffers one thread needs to run a ``Sequential`` network on batches
/// of up to `batchCapacity` examples: every layer's output, every layer's
/// scratch (patch matrices), two gradient buffers that back-propagation
/// alternates between, and one accumulator per parameter.
///
/// All memory is allocated once, here; passes allocate nothing. A
/// workspace belongs to one thread at a time.
public final class Workspace {
    /// The largest batch the buffers hold.
    public let batchCapacity: Int
    /// Each layer's output, `batchCapacity × outputCount` floats (a
    /// pass-through layer's is its input's: the same pointer as the layer before).
    public let outputs: [UnsafeMutablePointer<Float>]
    /// Each layer's scratch memory.
    let scratch: [UnsafeMutablePointer<Float>]
    /// Where the caller puts ∂L/∂(network output) before `backward`.
    public let outputGradient: UnsafeMutablePointer<Float>
    let spareGradient: UnsafeMutablePointer<Float>
    /// All parameter gradients, one contiguous block in ``Sequential/parameterNames`` order.
    public let gradientStorage: UnsafeMutableBufferPointer<Float>
    /// Each layer's parameter gradients: pointers into ``gradientStorage``.
    public let parameterGradients: [[UnsafeMutablePointer<Float>]]
    private var allocations: [UnsafeMutablePointer<Float>] = []

    /// Allocates the buffers of `network` for batches of up to `batchCapacity`.
    public init(network: Sequential, batchCapacity: Int) {
        precondition(batchCapacity > 0, "a workspace needs a positive batch capacity")
        self.batchCapacity = batchCapacity
        var allocations: [UnsafeMutablePointer<Float>] = []
        func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            allocations.append(pointer)
            return pointer
        }
        var outputs: [UnsafeMutablePointer<Float>] = []
        for (i, layer) in network.layers.enumerated() {
            // A pass-through layer's output is its input's buffer (the first layer's input is the caller's).
            outputs.append(i > 0 && layer.passesInputThrough ? outputs[i - 1] : allocate(batchCapacity * layer.outputCount))
        }
        self.outputs = outputs
        scratch = network.layers.map { allocate($0.workspaceCount(batch: batchCapacity)) }
        let widest = network.layers.reduce(0) { max($0, $1.inputCount, $1.outputCount) }
        outputGradient = allocate(batchCapacity * widest)
        spareGradient = allocate(batchCapacity * widest)
        let total = network.parameterCount
        let storage = allocate(total)
        gradientStorage = UnsafeMutableBufferPointer(start: storage, count: total)
        var offset = 0
        parameterGradients = network.layers.map { layer in
            layer.parameters.map { parameter in
                defer { offset += parameter.count }
                return storage + offset
            }
        }
        self.allocations = allocations
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// Sets every parameter gradient to zero.
    public func zeroGradients() {
        gradientStorage.update(repeating: 0)
    }
}
