import Foundation

/// Number formatting for the tables: a fixed unit per column and about
/// three significant digits, so columns compare at a glance.
public enum Format {
    /// Seconds as milliseconds, e.g. `0.0123`, `4.56`, `123.4`.
    public static func milliseconds(_ seconds: Double) -> String {
        significant(seconds * 1e3)
    }

    /// Seconds as microseconds, e.g. `12.3`, `456`.
    public static func microseconds(_ seconds: Double) -> String {
        significant(seconds * 1e6)
    }

    /// About three significant digits without an exponent.
    public static func significant(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let magnitude = abs(value)
        let decimals: Int
        switch magnitude {
        case 0: decimals = 0
        case ..<0.01: decimals = 5
        case ..<0.1: decimals = 4
        case ..<1: decimals = 3
        case ..<10: decimals = 2
        case ..<100: decimals = 1
        default: decimals = 0
        }
        return String(format: "%.\(decimals)f", value)
    }

    /// A ratio such as a speedup, e.g. `12.3×`.
    public static func ratio(_ value: Double) -> String {
        value.isFinite ? significant(value) + "×" : "–"
    }

    /// A fraction as a percentage, e.g. `42.1%`.
    public static func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "–" }
        return String(format: "%.1f%%", fraction * 100)
    }

    /// A small error in scientific notation, e.g. `3.1e-06`.
    public static func scientific(_ value: Double) -> String {
        String(format: "%.1e", value)
    }

    /// A rate such as samples per second, rounded to a whole number.
    public static func rate(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        return String(format: "%.0f", value)
    }
}
