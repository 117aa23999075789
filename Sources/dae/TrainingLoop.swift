import DAEKit
import Foundation

/// Trains a model one epoch at a time up to a total, with the progress bar,
/// Ctrl-C checks after every batch, and a hook after every epoch (where
/// `train` writes its checkpoint).
///
/// Calling `fit` once per epoch gives the same weights as one call for all
/// epochs: the model numbers epochs across calls and draws each epoch's
/// shuffling and noise from `(seed, epoch)`.
struct TrainingLoop {
    /// The epoch to stop after (counted over every run of the model).
    let totalEpochs: Int
    /// Batch size, noise and seed (`epochs` is ignored).
    let options: TrainingOptions
    /// Runs after each epoch with the model and its record, before the
    /// epoch's line is shown; returns text to append to that line.
    var afterEpoch: (DenoisingAutoencoder, EpochRecord) throws -> String = { _, _ in "" }
    /// The message when Ctrl-C stops training, given the last finished epoch.
    var interruptedMessage: (Int) -> String = { "interrupted after epoch \($0)" }

    /// Trains `model` on `train`, validating on `validation` after each epoch.
    ///
    /// - Throws: ``CLIError`` with status 130 when interrupted, or what `fit` and ``afterEpoch`` throw.
    func run(_ model: inout DenoisingAutoencoder, train: some ImageSource, validation: (any ImageSource)?) throws {
        let bar = ProgressBar(totalEpochs: totalEpochs, batchSize: min(options.batchSize, train.imageCount))
        var epochOptions = options
        epochOptions.epochs = 1
        let interruption = Interruption.shared
        var finished = model.epochsCompleted
        do {
            try interruption.whileTraining(exitMessage: interruptedMessage(finished)) {
                while model.epochsCompleted < totalEpochs {
                    var last: EpochRecord?
                    try model.fit(train, validation: validation, options: epochOptions) { event in
                        if case let .epochEnd(record) = event {
                            last = record
                        } else {
                            try interruption.checkCancellation("training")
                            bar.show(event)
                        }
                    }
                    guard let record = last else { break }
                    let suffix = try afterEpoch(model, record)
                    finished = model.epochsCompleted
                    interruption.setExitMessage(interruptedMessage(finished))
                    bar.finishEpoch(record, suffix: suffix)
                    try interruption.checkCancellation("training")
                }
            }
        } catch DAEError.cancelled(_) {
            bar.clear()
            throw CLIError(interruptedMessage(finished), exitStatus: CLIError.interruptedStatus)
        } catch {
            bar.clear()
            throw error
        }
    }
}
