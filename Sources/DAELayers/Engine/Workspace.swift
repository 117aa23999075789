#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The buffers one thread needs to run a ``Sequential`` network on batches
/// of up to `batchCapacity` examples: every layer's output, every layer's
/// scratch (patch matrices), two gradient buffers that back-propagation
/// alternates between, and one accumulator per parameter.
///
/// All memory is allocated once, here, and starts as zeros; passes allocate
/// nothing. A workspace belongs to one thread at a time.
///
/// An inference-only workspace (`forInference: true`) gives every layer the
/// same scratch buffer, sized for the largest forward pass
/// (``Layer/forwardWorkspaceCount(batch:)``: no patch matrix for a Winograd
/// convolution), two output buffers that the layers write in turn, and no
/// gradient buffers: a forward pass needs a layer's scratch only while that
/// layer runs and reads only the output of the layer before, so a deep
/// network on large images needs one scratch buffer and two activations, not
/// one of each per layer. Only the last layer's output (what
/// ``Sequential/forward(_:batch:workspace:layers:)`` returns) is left after a pass.
/// ``Sequential/backward(input:batch:workspace:)`` must not be used with it.
///
/// Buffers only shrink with the image: a workspace allocated for a network
/// of convolutions on one image size also serves the same layers built for
/// any smaller size (the tiles of a fully convolutional model share one).
package final class Workspace {
    /// The largest batch the buffers hold.
    package let batchCapacity: Int
    /// Each layer's output, `batchCapacity × outputCount` floats (a
    /// pass-through layer's is its input's: the same pointer as the layer
    /// before; in an inference-only workspace, one of two buffers in turn).
    package let outputs: [UnsafeMutablePointer<Float>]
    /// Each layer's scratch memory (``Layer/workspaceCount(batch:)`` floats
    /// at `batchCapacity`; one shared buffer in an inference-only workspace),
    /// for callers that run the layers one by one, as the profiler does.
    package let scratch: [UnsafeMutablePointer<Float>]
    /// Where the caller puts ∂L/∂(network output) before `backward`.
    package let outputGradient: UnsafeMutablePointer<Float>
    /// The other gradient buffer: back-propagation writes each layer's input
    /// gradient here, then swaps it with ``outputGradient``'s role.
    package let spareGradient: UnsafeMutablePointer<Float>
    /// All parameter gradients, one contiguous block in ``Sequential/parameterNames`` order.
    package let gradientStorage: UnsafeMutableBufferPointer<Float>
    /// Each layer's parameter gradients: pointers into ``gradientStorage``.
    package let parameterGradients: [[UnsafeMutablePointer<Float>]]
    private var allocations: [UnsafeMutablePointer<Float>] = []
    /// An inference-only workspace's buffers, from calloc (freed with free).
    private var zeroedPages: [UnsafeMutableRawPointer] = []

    /// Whether this workspace serves forward passes only (shared scratch, no gradients).
    package let isInferenceOnly: Bool

    /// Allocates the buffers of `network` for batches of up to `batchCapacity`;
    /// `forInference` shares one scratch buffer between the layers and
    /// leaves out the gradient buffers.
    package init(network: Sequential, batchCapacity: Int, forInference: Bool = false) {
        precondition(batchCapacity > 0, "a workspace needs a positive batch capacity")
        self.batchCapacity = batchCapacity
        isInferenceOnly = forInference
        var allocations: [UnsafeMutablePointer<Float>] = []
        var zeroedPages: [UnsafeMutableRawPointer] = []
        func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
            if forInference {
                // calloc: large blocks come as fresh zero pages, touched (and faulted in) by the
                // worker that first writes them, in parallel, instead of zeroed here on one thread.
                guard let raw = calloc(max(count, 1), MemoryLayout<Float>.stride) else {
                    fatalError("out of memory allocating an inference workspace of \(count) floats")
                }
                zeroedPages.append(raw)
                return raw.bindMemory(to: Float.self, capacity: max(count, 1))
            }
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
            pointer.initialize(repeating: 0, count: max(count, 1))
            allocations.append(pointer)
            return pointer
        }
        var outputs: [UnsafeMutablePointer<Float>] = []
        if forInference {
            // A forward pass reads only the layer before's output: two buffers, used in turn.
            let widest = network.bareLayers.map(\.outputCount).max() ?? 0
            let pair = [allocate(batchCapacity * widest), allocate(batchCapacity * widest)]
            var turn = 0
            for (i, layer) in network.bareLayers.enumerated() {
                if i > 0 && layer.passesInputThrough { outputs.append(outputs[i - 1]); continue }
                outputs.append(pair[turn])
                turn = 1 - turn
            }
        } else {
            for (i, layer) in network.bareLayers.enumerated() {
                // A pass-through layer's output is its input's buffer (the first layer's input is the caller's).
                outputs.append(i > 0 && layer.passesInputThrough ? outputs[i - 1] : allocate(batchCapacity * layer.outputCount))
            }
        }
        self.outputs = outputs
        if forInference {
            let shared = allocate(network.bareLayers.map { $0.forwardWorkspaceCount(batch: batchCapacity) }.max() ?? 0)
            scratch = network.bareLayers.map { _ in shared }
        } else {
            scratch = network.bareLayers.map { allocate($0.workspaceCount(batch: batchCapacity)) }
        }
        let widest = forInference ? 0 : network.bareLayers.reduce(0) { max($0, $1.inputCount, $1.outputCount) }
        outputGradient = allocate(batchCapacity * widest)
        spareGradient = allocate(batchCapacity * widest)
        let total = forInference ? 0 : network.parameterCount
        let storage = allocate(total)
        gradientStorage = UnsafeMutableBufferPointer(start: storage, count: total)
        var offset = 0
        parameterGradients = forInference ? [] : network.bareLayers.map { layer in
            layer.parameterShapes.map { shape in
                defer { offset += Tensor.elementCount(of: shape) }
                return storage + offset
            }
        }
        self.allocations = allocations
        self.zeroedPages = zeroedPages
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
        for pointer in zeroedPages { free(pointer) }
    }

    /// Sets every parameter gradient to zero.
    package func zeroGradients() {
        gradientStorage.update(repeating: 0)
    }
}
