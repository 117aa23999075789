import DAEKit
import Foundation

/// A JSON value with keys kept in the order they were written, rendered on
/// one line by the package's encoder (`JSONCoding`). Numbers print in
/// Swift's shortest round-trip form (a `Float` loss prints as `0.0213`, not
/// `0.021299999207`); non-finite numbers become `null`.
enum JSON: Encodable {
    case object([(String, JSON)])
    case array([JSON])
    case string(String)
    case integer(Int)
    case float(Float)
    case double(Double)
    case bool(Bool)
    case null

    /// A number from a `Float` (null when absent or not finite).
    static func float(_ value: Float?) -> JSON {
        guard let value, value.isFinite else { return .null }
        return .float(value)
    }

    /// A number from a `Double` (null when absent or not finite).
    static func double(_ value: Double?) -> JSON {
        guard let value, value.isFinite else { return .null }
        return .double(value)
    }

    /// A number from an integer.
    static func int(_ value: some BinaryInteger) -> JSON { .integer(Int(value)) }

    /// The value on one line.
    var rendered: String { (try? JSONCoding.string(self, sortedKeys: false)) ?? "null" }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case let .object(members):
            var container = encoder.container(keyedBy: Key.self)
            for (key, value) in members { try container.encode(value, forKey: Key(stringValue: key)) }
        case let .array(values):
            var container = encoder.unkeyedContainer()
            for value in values { try container.encode(value) }
        default:
            var container = encoder.singleValueContainer()
            switch self {
            case let .string(text): try container.encode(text)
            case let .integer(value): try container.encode(value)
            case let .float(value) where value.isFinite: try container.encode(value)
            case let .double(value) where value.isFinite: try container.encode(value)
            case let .bool(value): try container.encode(value)
            default: try container.encodeNil()
            }
        }
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
