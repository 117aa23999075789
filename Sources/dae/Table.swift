import DAEKit
import Foundation

extension TextTable {
    /// Prints the table to standard output (plain text; the first column left-aligned, numbers right-aligned).
    func print() {
        for line in lines() { Console.output(line) }
    }
}

/// The two tables the commands print: the robustness table and the training history.
enum Tables {
    /// For each noise std: MSE / PSNR / SSIM of the noisy input and of the
    /// denoised output. `stdScale` 255 shows photo noise levels as 15, 25, 50 (/255).
    static func robustness(_ results: [RobustnessResult], stdScale: Double = 1) -> TextTable {
        var table = TextTable(header: [stdScale == 255 ? "noise std (/255)" : "noise std", "noisy MSE", "noisy PSNR", "noisy SSIM",
                                       "denoised MSE", "denoised PSNR", "denoised SSIM"])
        for result in results {
            table.rows.append([
                format(Double(result.std) * stdScale, digits: stdScale == 255 ? 0 : 2),
                format(result.noisy.mse, digits: 4), format(result.noisy.psnr, digits: 2) + " dB", ssim(result.noisy.ssim),
                format(result.denoised.mse, digits: 4), format(result.denoised.psnr, digits: 2) + " dB", ssim(result.denoised.ssim),
            ])
        }
        return table
    }

    /// One row per epoch: losses, seconds and images per second of training.
    static func history(_ history: TrainingHistory) -> TextTable {
        var table = TextTable(header: ["epoch", "train loss", "val loss", "seconds", "img/s"])
        for record in history.epochs {
            table.rows.append([
                String(record.epoch), format(Double(record.trainLoss), digits: 5),
                record.validationLoss.map { format(Double($0), digits: 5) } ?? "-",
                format(record.seconds, digits: 1), format(record.samplesPerSecond, digits: 0),
            ])
        }
        return table
    }

    private static func ssim(_ value: Double?) -> String {
        value.map { format($0, digits: 4) } ?? "n/a"
    }

    /// `value` with `digits` decimals.
    static func format(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }
}
