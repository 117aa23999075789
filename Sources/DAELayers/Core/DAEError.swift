import Foundation

/// The one error type of the library: every failure a user can cause.
///
/// Each case says what was wrong and where: the file, the tensor name, the
/// expected and the actual shape. `description` is a one-line message fit
/// for a command line, and ``errorDescription`` (so `localizedDescription`)
/// returns the same text:
///
/// ```swift
/// do {
///     _ = try model.denoise(image)
/// } catch {
///     print(error.localizedDescription)
///     // denoise input (a batch [n, h, w, c] of [28, 28, 1] images): expected a rank-4 shape [1, 28, 28, 1], got rank 3 [28, 28, 1]
/// }
/// ```
public enum DAEError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A tensor had another shape than expected; `what` names it.
    case shapeMismatch(_ what: String, expected: [Int], actual: [Int])
    /// An argument had an impossible value (negative size, empty list, …).
    case invalidArgument(_ reason: String)
    /// A model configuration cannot be built; `reason` names the field.
    case invalidConfiguration(_ reason: String)
    /// Input data held a value outside the allowed range (NaN, infinity, outside [0, 1]).
    case invalidValue(_ what: String, reason: String)
    /// A file could not be read or written at all.
    case fileUnreadable(path: String, reason: String)
    /// A file was read but its content is malformed.
    case corruptFile(path: String, reason: String)
    /// A file lacks a tensor the model needs.
    case missingTensor(name: String, path: String)
    /// Training produced a loss that is NaN or infinite; the model keeps its last finite weights.
    case nonFiniteLoss(epoch: Int, batch: Int, loss: Float)
    /// A write could not be finished; the previous file, if any, is untouched.
    case writeFailed(path: String, reason: String)
    /// The operation was cancelled (for example by Ctrl-C); nothing half-done was kept.
    case cancelled(_ what: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(what, expected, actual):
            guard expected.count == actual.count else {
                return "\(what): expected a rank-\(expected.count) shape \(expected), got rank \(actual.count) \(actual)"
            }
            return "\(what): expected shape \(expected), got \(actual)"
        case let .invalidArgument(reason):
            return "invalid argument: \(reason)"
        case let .invalidConfiguration(reason):
            return "invalid configuration: \(reason)"
        case let .invalidValue(what, reason):
            return "\(what): \(reason)"
        case let .fileUnreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .corruptFile(path, reason):
            return "\(path): corrupt file: \(reason)"
        case let .missingTensor(name, path):
            return "\(path): no tensor named '\(name)'"
        case let .nonFiniteLoss(epoch, batch, loss):
            return "training diverged: loss is \(loss) at epoch \(epoch), batch \(batch); the model keeps its last finite weights (try a lower learning rate)"
        case let .writeFailed(path, reason):
            return "\(path): cannot write: \(reason)"
        case let .cancelled(what):
            return "cancelled: \(what)"
        }
    }
}

extension DAEError: LocalizedError {
    /// The same one-line message as ``description``, so that
    /// `error.localizedDescription` says what went wrong.
    public var errorDescription: String? { description }
}
