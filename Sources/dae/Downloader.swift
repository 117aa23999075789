import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP GET with a timeout, for `dae fetch`.
struct Downloader {
    /// Seconds without an answer before a request fails.
    let timeout: TimeInterval
    /// The largest body accepted (MNIST's largest file is 9.9 MB).
    var maximumBytes = 64 << 20

    /// The body of `url`, which must answer 200.
    ///
    /// - Throws: ``CLIError`` naming the URL and the reason.
    func get(_ url: URL) throws -> Data {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = max(timeout, 600)
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let box = ResultBox()
        let task = session.dataTask(with: URLRequest(url: url)) { data, response, error in
            box.finish(data: data, response: response, error: error)
        }
        task.resume()
        box.wait()
        if let error = box.error {
            throw CLIError("could not download \(url.absoluteString): \(error.localizedDescription)")
        }
        guard let response = box.response as? HTTPURLResponse else {
            throw CLIError("could not download \(url.absoluteString): no HTTP response")
        }
        guard response.statusCode == 200 else {
            throw CLIError("could not download \(url.absoluteString): HTTP \(response.statusCode) "
                + HTTPURLResponse.localizedString(forStatusCode: response.statusCode))
        }
        let data = box.data ?? Data()
        guard data.count <= maximumBytes else {
            throw CLIError("could not download \(url.absoluteString): larger than \(maximumBytes) bytes")
        }
        return data
    }
}

/// The result of one request, handed from URLSession's queue to the waiting thread.
private final class ResultBox: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private(set) var data: Data?
    private(set) var response: URLResponse?
    private(set) var error: (any Error)?

    func finish(data: Data?, response: URLResponse?, error: (any Error)?) {
        self.data = data
        self.response = response
        self.error = error
        done.signal()
    }

    /// Blocks until ``finish(data:response:error:)``; the semaphore orders the writes before the reads.
    func wait() { done.wait() }
}
