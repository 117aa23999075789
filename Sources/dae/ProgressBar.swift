import DAEKit
import Foundation

/// Shows training progress on standard error.
///
/// On a terminal it redraws one line, at most ten times a second:
///
///     epoch 3/10 [#########-----------] 1234/1875 loss 0.0213 4120 img/s ETA 0:12
///
/// Otherwise (a log file, a pipe) it writes a plain line at every tenth of
/// an epoch. Either way every epoch ends with a line of its own:
///
///     epoch 3/10 done: loss 0.02133 val 0.01981 14.6 s 4109 img/s
final class ProgressBar {
    /// The epoch the run ends at (the total, counted over resumed runs).
    let totalEpochs: Int
    /// Images per batch, for the time estimate.
    let batchSize: Int
    /// Whether to redraw one line (a terminal) or write plain lines.
    let redraws: Bool
    /// Something to append to each epoch's final line, e.g. "checkpoint saved".
    var epochSuffix: (EpochRecord) -> String = { _ in "" }

    private var lastDraw: UInt64 = 0
    private var lastDecile = -1
    private var lineVisible = false

    /// The width of the bar between the brackets.
    static let width = 20

    init(totalEpochs: Int, batchSize: Int, redraws: Bool = Console.stderrIsTerminal) {
        self.totalEpochs = totalEpochs
        self.batchSize = batchSize
        self.redraws = redraws
    }

    /// Shows one event of `fit`.
    func show(_ event: TrainingEvent) {
        switch event {
        case let .batch(epoch, batch, batches, loss, samplesPerSecond):
            showBatch(epoch: epoch, batch: batch, batches: batches, loss: loss, samplesPerSecond: samplesPerSecond)
        case let .validating(epoch):
            if redraws { draw("epoch \(epoch)/\(totalEpochs) validating…") }
        case let .epochEnd(record):
            finishEpoch(record)
        }
    }

    /// Shows the end of an epoch (normally through ``show(_:)``); `suffix` is appended.
    func finishEpoch(_ record: EpochRecord, suffix extra: String = "") {
        var line = "epoch \(record.epoch)/\(totalEpochs) done: loss \(Tables.format(Double(record.trainLoss), digits: 5))"
        if let validation = record.validationLoss { line += " val \(Tables.format(Double(validation), digits: 5))" }
        line += " \(Tables.format(record.seconds, digits: 1)) s \(Tables.format(record.samplesPerSecond, digits: 0)) img/s"
        line += epochSuffix(record) + extra
        clear()
        Console.note(line)
        lastDecile = -1
    }

    /// Removes the redrawn line, if any (before other output).
    func clear() {
        if lineVisible {
            Console.writeError("\r\u{1B}[K")
            lineVisible = false
        }
    }

    private func showBatch(epoch: Int, batch: Int, batches: Int, loss: Float, samplesPerSecond: Double) {
        let remaining = Double(max(batches - batch, 0) * batchSize) / max(samplesPerSecond, 1e-9)
        let stats = "loss \(Tables.format(Double(loss), digits: 4)) \(Tables.format(samplesPerSecond, digits: 0)) img/s ETA \(Self.clock(remaining))"
        if redraws {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now - lastDraw >= 100_000_000 || batch == batches else { return }
            lastDraw = now
            let filled = batches > 0 ? Self.width * batch / batches : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: Self.width - filled)
            draw("epoch \(epoch)/\(totalEpochs) [\(bar)] \(batch)/\(batches) \(stats)")
        } else {
            let decile = batches > 0 ? 10 * batch / batches : 10
            guard decile > lastDecile else { return }
            lastDecile = decile
            guard decile >= 1, batch < batches else { return }  // the epoch's own line follows at the end
            Console.note("epoch \(epoch)/\(totalEpochs) batch \(batch)/\(batches) \(stats)")
        }
    }

    private func draw(_ line: String) {
        Console.writeError("\r" + line + "\u{1B}[K")
        lineVisible = true
    }

    /// `m:ss` or `h:mm:ss`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }
}

/// Shows how far the denoising of one image file has got, on a terminal
/// only, from one second in (small images finish without a line):
///
///     denoising IMG_2041.jpg [########------------] 41%
///
/// `update` is called by the library after each band of rows.
final class FileProgress: @unchecked Sendable {
    let label: String
    private let start = DispatchTime.now().uptimeNanoseconds
    private var lastDraw: UInt64 = 0
    private var visible = false

    init(label: String) { self.label = label }

    /// Redraws the line for `fraction` (0 to 1) of the rows written, at most ten times a second.
    func update(_ fraction: Double) {
        guard Console.stderrIsTerminal else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - start > 1_000_000_000, now - lastDraw > 100_000_000 else { return }
        lastDraw = now
        let filled = min(ProgressBar.width, Int(fraction * Double(ProgressBar.width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: ProgressBar.width - filled)
        Console.writeError("\r\u{1B}[2Kdenoising \(label) [\(bar)] \(Int(fraction * 100))%")
        visible = true
    }

    /// Removes the line, if one was drawn.
    func finish() {
        if visible { Console.writeError("\r\u{1B}[2K") }
        visible = false
    }
}
