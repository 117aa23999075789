import Foundation

extension DenoisingAutoencoder {
    /// Trains as ``fit(_:validation:options:progress:)-2kqu2`` does, off the
    /// caller's thread, and stops cleanly when the calling `Task` is cancelled.
    ///
    /// ```swift
    /// let training = Task {
    ///     var model = try DenoisingAutoencoder(configuration: .init(), seed: 1)
    ///     try await model.fit(images, options: .init(epochs: 10))
    ///     return model
    /// }
    /// training.cancel()   // `fit` throws DAEError.cancelled within one Adam step
    /// ```
    ///
    /// The work runs on a dispatch thread, so a long training run does not
    /// hold one of Swift concurrency's few cooperative threads.
    ///
    /// **After cancellation** (or any other error) the model is left at its
    /// last finished Adam step: the weights and the optimizer state
    /// (moments and step count) include every batch that finished, while
    /// ``epochsCompleted`` and ``history`` count whole epochs only. A
    /// cancelled model can be used, saved or trained further; training it
    /// further starts the interrupted epoch again on top of the steps
    /// already taken, so it is not bit-identical to an uninterrupted run (a
    /// checkpoint saved at an epoch's end is, see ``save(to:)``).
    ///
    /// - Parameters:
    ///   - train: clean images of the model's input shape.
    ///   - validation: clean images whose loss is measured after each epoch.
    ///   - options: epochs, batch size, noise, shuffling, seed.
    ///   - progress: called after every batch and epoch, on the training thread.
    /// - Throws: `DAEError/cancelled(_:)` when the task is cancelled (checked
    ///   before training and after every batch), and whatever the
    ///   synchronous `fit` throws.
    @discardableResult
    public mutating func fit(
        _ train: some ImageSource, validation: (any ImageSource)? = nil,
        options: TrainingOptions = TrainingOptions(),
        progress: (@Sendable (TrainingEvent) throws -> Void)? = nil
    ) async throws -> TrainingHistory {
        guard !Task.isCancelled else { throw DAEError.cancelled("training was cancelled before it started") }
        let flag = CancellationFlag()
        let start = self
        let (model, result) = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<(DenoisingAutoencoder, Result<TrainingHistory, any Error>), Never>) in
                DispatchQueue.global(qos: .userInitiated).async {
                    var model = start
                    let result = Result {
                        try model.fit(train, validation: validation, options: options) { event in
                            if flag.isSet {
                                throw DAEError.cancelled("training; the model keeps its last finished step")
                            }
                            try progress?(event)
                        }
                    }
                    continuation.resume(returning: (model, result))
                }
            }
        } onCancel: {
            flag.set()
        }
        self = model
        return try result.get()
    }
}

/// A flag set once from any thread (the task's cancellation handler) and read by the training thread.
private final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
