import DAEFiles
import DAEKit
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ctrl-C (SIGINT) and SIGTERM handling.
///
/// The default action (die at once) is ignored and a dispatch source
/// watches for the signal instead. While a training loop is running
/// (``whileTraining(exitMessage:_:)``), the first signal only sets a flag;
/// the loop checks it after every batch (``checkCancellation(_:)``) and
/// stops by throwing ``DAEError/cancelled(_:)``, so a checkpoint being
/// written (atomically) is finished, and the next one is never started. A
/// second signal, or a signal outside a training loop, ends the process
/// soon with status 130 and the current exit message: first the atomic
/// writes in progress are let finish (for at most 10 s; any still unfinished
/// then have their temporary files removed) and no new one starts
/// (`AtomicFile.finishWritesBeforeExit`), so the command leaves no
/// temporary file and no half-written one. `DAECommand.main` installs the
/// handlers before any command runs, so every command that writes is covered.
final class Interruption: @unchecked Sendable {
    /// The one instance (signals are process-wide).
    static let shared = Interruption()

    private let lock = NSLock()
    private var requested = false
    private var deferring = false
    private var exitMessage = "interrupted"
    private var sources: [any DispatchSourceSignal] = []

    private init() {}

    /// Installs the handlers (once; later calls do nothing).
    func install() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            // Signals that arrive together are coalesced into one event: `data` counts them (a quick double Ctrl-C).
            source.setEventHandler {  // the sources live as long as the process: capturing is fine
                for _ in 0..<max(1, source.data) { Interruption.shared.signalReceived() }
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Whether a stop was requested.
    var isRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return requested
    }

    /// The message shown (after `error:`) if the process has to end at once.
    func setExitMessage(_ message: String) {
        lock.lock()
        exitMessage = message
        lock.unlock()
    }

    /// Runs `body` with signals deferred: the first one sets the flag that
    /// ``checkCancellation(_:)`` reports.
    func whileTraining<T>(exitMessage: String, _ body: () throws -> T) rethrows -> T {
        install()
        lock.lock()
        deferring = true
        self.exitMessage = exitMessage
        lock.unlock()
        defer {
            lock.lock()
            deferring = false
            self.exitMessage = "interrupted"
            lock.unlock()
        }
        return try body()
    }

    /// Throws ``DAEError/cancelled(_:)`` with `what` when a stop was requested.
    func checkCancellation(_ what: @autoclosure () -> String) throws {
        if isRequested { throw DAEError.cancelled(what()) }
    }

    private func signalReceived() {
        lock.lock()
        let stopNow = !deferring || requested
        requested = true
        let message = exitMessage
        lock.unlock()
        if stopNow {
            AtomicFile.finishWritesBeforeExit()
            FileLock.removeLockFilesBeforeExit()
            Console.writeError(Console.lineStart + "error: \(message)\n")
            _exit(CLIError.interruptedStatus)
        }
        Console.writeError(Console.lineStart + "stopping after this batch (press Ctrl-C again to quit at once)\n")
    }
}
