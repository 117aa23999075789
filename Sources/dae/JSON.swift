import DAEKit
import Foundation

/// A JSON value with keys kept in the order they were written, rendered on
/// one line. Numbers print in Swift's shortest round-trip form (a `Float`
/// loss prints as `0.0213`, not `0.021299999207`); non-finite numbers
/// become `null`.
enum JSON {
    case object([(String, JSON)])
    case array([JSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// A number from a `Float` (null when not finite).
    static func float(_ value: Float?) -> JSON {
        guard let value, value.isFinite else { return .null }
        return .number("\(value)")
    }

    /// A number from a `Double` (null when not finite).
    static func double(_ value: Double?) -> JSON {
        guard let value, value.isFinite else { return .null }
        return .number("\(value)")
    }

    /// A number from an integer.
    static func int(_ value: some BinaryInteger) -> JSON { .number("\(value)") }

    /// The value on one line.
    var rendered: String {
        switch self {
        case let .object(members):
            return "{" + members.map { JSON.quoted($0.0) + ": " + $0.1.rendered }.joined(separator: ", ") + "}"
        case let .array(values):
            return "[" + values.map(\.rendered).joined(separator: ", ") + "]"
        case let .string(text): return JSON.quoted(text)
        case let .number(text): return text
        case let .bool(value): return value ? "true" : "false"
        case .null: return "null"
        }
    }

    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// The JSON forms of the library's values, shared by every `--json` output.
enum JSONReport {
    /// `{"epoch", "trainLoss", "valLoss", "seconds", "samplesPerSecond"}`.
    static func epoch(_ record: EpochRecord) -> JSON {
        .object([
            ("epoch", .int(record.epoch)),
            ("trainLoss", .float(record.trainLoss)),
            ("valLoss", .float(record.validationLoss)),
            ("seconds", .double(record.seconds)),
            ("samplesPerSecond", .double(record.samplesPerSecond)),
        ])
    }

    /// The history as an array of epochs.
    static func history(_ history: TrainingHistory) -> JSON {
        .array(history.epochs.map(epoch))
    }

    /// `{"std", "noisyMSE", "noisyPSNR", "noisySSIM", "mse", "psnr", "ssim"}`.
    static func robustness(_ result: RobustnessResult) -> JSON {
        .object([
            ("std", .float(result.std)),
            ("noisyMSE", .double(result.noisy.mse)),
            ("noisyPSNR", .double(result.noisy.psnr)),
            ("noisySSIM", .double(result.noisy.ssim)),
            ("mse", .double(result.denoised.mse)),
            ("psnr", .double(result.denoised.psnr)),
            ("ssim", .double(result.denoised.ssim)),
        ])
    }

    /// The robustness table as an array.
    static func robustness(_ results: [RobustnessResult]) -> JSON {
        .array(results.map(robustness))
    }

    /// The architecture and its parameter count.
    static func configuration(of model: DenoisingAutoencoder) -> JSON {
        let c = model.configuration
        return .object([
            ("architecture", .string(c.architecture.rawValue)),
            ("inputShape", .array(c.inputShape.map(JSON.int))),
            ("layerFilters", .array(c.layerFilters.map(JSON.int))),
            ("kernelSize", .int(c.kernelSize)),
            ("latentDim", .int(c.latentDim)),
            ("stride", .int(c.stride)),
            ("parameters", .int(model.parameterCount)),
        ])
    }
}
