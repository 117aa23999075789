import ArgumentParser
import DAEBenchmarkKit
import Foundation

/// Runs sections and prints them: tables as each section finishes (with
/// the environment first), or the whole report as JSON at the end.
enum BenchDriver {
    static func run(_ sections: [BenchmarkSection], _ options: BenchOptions) throws {
        let runner = BenchmarkRunner(settings: try options.settings())
        let environment = BenchmarkEnvironment.current()
        if !options.json {
            print("# dae-bench: \(BenchmarkRunner.plan(sections).map(\.rawValue).joined(separator: ", "))\n")
            print("```\n\(environment.summary)\n```")
        }
        let report = try runner.run(sections, log: progress) { section, report in
            guard !options.json else { return }
            for table in report.tables(section) { print("\n" + table.rendered()) }
        }
        if options.json {
            print(try report.jsonString())
        } else {
            print("\nTotal \(Format.significant(report.seconds)) s.")
        }
        if !report.failures.isEmpty {
            for failure in report.failures { progress("FAILED: \(failure)") }
            throw ExitCode.failure
        }
    }

    /// One line of progress on standard error.
    static func progress(_ line: String) {
        FileHandle.standardError.write(Data("[dae-bench] \(line)\n".utf8))
    }
}
