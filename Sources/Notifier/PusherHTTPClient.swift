import Foundation
import Redis
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends signed `POST /apps/<id>/events` requests through `URLSession` and classifies the answers.
final class PusherHTTPClient: Sendable {
    private let session: URLSession
    private let signer: PusherSigner
    private let eventsURL: URL
    private let path: String
    private let timeout: Duration

    /// The longest response body kept in an error.
    static let bodyLimit = 512

    init(configuration: NotifierConfiguration) {
        let sessionConfiguration = URLSessionConfiguration.ephemeral
        // A backstop only: FoundationNetworking hands curl whole seconds (a timeout under 1 s becomes 0 and
        // fails at once), so the exact bound is enforced in `send` and URLSession gets more.
        let backstop = Self.backstopSeconds(configuration.requestTimeout)
        sessionConfiguration.timeoutIntervalForRequest = backstop
        sessionConfiguration.timeoutIntervalForResource = backstop
        sessionConfiguration.requestCachePolicy = .reloadIgnoringLocalCacheData
        sessionConfiguration.urlCache = nil
        sessionConfiguration.httpCookieStorage = nil
        session = URLSession(configuration: sessionConfiguration)
        signer = PusherSigner(appKey: configuration.appKey, appSecret: configuration.appSecret)
        path = configuration.eventsPath
        eventsURL = configuration.baseURL.appendingPathComponent(String(configuration.eventsPath.dropFirst()))
        timeout = configuration.requestTimeout
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// Signs and sends one event; never throws: every failure is an outcome.
    func trigger(_ event: PusherEvent, at timestamp: Int64) async -> DeliveryOutcome {
        let body = event.body
        let parameters = signer.signedParameters(method: "POST", path: path, body: body, timestamp: timestamp)
        guard var components = URLComponents(url: eventsURL, resolvingAgainstBaseURL: false) else {
            return .rejected(status: 0, body: "cannot build a URL from \(eventsURL)")
        }
        components.percentEncodedQuery = parameters.map { "\($0.0)=\(Self.queryEncoded($0.1))" }.joined(separator: "&")
        guard let url = components.url else { return .rejected(status: 0, body: "cannot build a URL from \(eventsURL)") }

        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: Self.backstopSeconds(timeout))
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("goal-signals-notifier", forHTTPHeaderField: "User-Agent")
        do {
            guard let (data, response) = try await send(request) else {
                return .failed(reason: "timeout after \(timeout.milliseconds) ms")
            }
            guard let http = response as? HTTPURLResponse else { return .failed(reason: "the answer is not HTTP") }
            return Self.classify(status: http.statusCode, body: data)
        } catch let error as URLError {
            return .failed(reason: describe(error))
        } catch is CancellationError {
            return .failed(reason: "cancelled")
        } catch {
            return .failed(reason: "request failed: \(type(of: error))")
        }
    }

    /// Sends `request`; `nil` when no answer came within the timeout (the request is then cancelled).
    private func send(_ request: URLRequest) async throws -> (Data, URLResponse)? {
        let session = session
        let timeout = timeout
        return try await withThrowingTaskGroup(of: (Data, URLResponse)?.self) { tasks in
            tasks.addTask { try await session.data(for: request) }
            tasks.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { tasks.cancelAll() }
            return try await tasks.next() ?? nil
        }
    }

    /// Whole seconds, more than one second beyond `timeout`.
    private static func backstopSeconds(_ timeout: Duration) -> TimeInterval {
        TimeInterval(timeout.components.seconds + 2)
    }

    /// 2xx delivered; 5xx, 408 and 429 worth a retry; anything else refused for good.
    static func classify(status: Int, body: Data) -> DeliveryOutcome {
        switch status {
        case 200..<300:
            return .delivered(status: status)
        case 500..<600, 408, 429:
            return .failed(reason: "Pusher answered \(status): \(excerpt(body))")
        default:
            return .rejected(status: status, body: excerpt(body))
        }
    }

    /// The start of a response body, on one line.
    static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(bodyLimit), as: UTF8.self)
            .replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
            .trimmingCharacters(in: .whitespaces)
        let shown = text.isEmpty ? "(empty body)" : text
        return body.count > bodyLimit ? shown + "…" : shown
    }

    /// A transport error in words, without the URL (whose query holds the signature).
    private func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: "timeout after \(timeout.milliseconds) ms"
        case .cancelled: "cancelled"
        case .cannotConnectToHost: "connection refused"
        case .cannotFindHost, .dnsLookupFailed: "host not found"
        case .networkConnectionLost: "connection lost"
        case .notConnectedToInternet: "network unreachable"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot: "TLS failure (URL error \(error.code.rawValue))"
        default: "connection error (URL error \(error.code.rawValue))"
        }
    }

    /// Percent-encodes a query value (the signer signs it unencoded; Pusher decodes before checking).
    private static func queryEncoded(_ value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
