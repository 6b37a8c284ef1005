import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Redis

/// Sends signed `POST /apps/<id>/events` requests through AsyncHTTPClient and classifies the answers.
///
/// Owns its `HTTPClient`: ``shutdown()`` must be awaited once the last request is done.
final class PusherHTTPClient: Sendable {
    private let client: HTTPClient
    private let signer: PusherSigner
    private let eventsURL: URL
    private let path: String
    private let timeout: Duration

    /// The longest response body kept in an error.
    static let bodyLimit = 512

    init(configuration: NotifierConfiguration) {
        var httpConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(configuration.requestTimeout.milliseconds))
        )
        // A refused or unreachable Pusher is an outcome the notifier retries with its own backoff; the client
        // must not wait out the request's deadline trying to connect again.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        signer = PusherSigner(appKey: configuration.appKey, appSecret: configuration.appSecret)
        path = configuration.eventsPath
        eventsURL = configuration.baseURL.appendingPathComponent(String(configuration.eventsPath.dropFirst()))
        timeout = configuration.requestTimeout
    }

    /// Closes the client's connections; no request may be sent afterwards.
    func shutdown() async {
        try? await client.shutdown()
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

        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.body = .bytes(body)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "goal-signals-notifier")
        do {
            let response = try await client.execute(request, timeout: .milliseconds(timeout.milliseconds))
            return Self.classify(status: Int(response.status.code), body: try await Self.prefix(of: response.body))
        } catch is CancellationError {
            return .failed(reason: "cancelled")
        } catch {
            return .failed(reason: describe(error))
        }
    }

    /// The first ``bodyLimit`` + 1 bytes of a response body (one more than is shown tells that it was cut);
    /// the rest is read and dropped.
    private static func prefix(of body: HTTPClientResponse.Body) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body where bytes.count <= bodyLimit {
            bytes += chunk.readableBytesView.prefix(bodyLimit + 1 - bytes.count)
        }
        return bytes
    }

    /// 2xx delivered; 5xx, 408 and 429 worth a retry; anything else refused for good.
    static func classify(status: Int, body: [UInt8]) -> DeliveryOutcome {
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
    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(bodyLimit), as: UTF8.self)
            .replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
            .trimmingCharacters(in: .whitespaces)
        let shown = text.isEmpty ? "(empty body)" : text
        return body.count > bodyLimit ? shown + "…" : shown
    }

    /// A transport error in words, without the URL (whose query holds the signature).
    private func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .connectTimeout || error == .readTimeout:
            return "timeout after \(timeout.milliseconds) ms"
        case let error as HTTPClientError where error == .cancelled:
            return "cancelled"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "connection lost"
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return "host not found"
            }
            return error.connectionErrors.first.map { describe($0.error) } ?? "connection error"
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return "connection refused"
        case let error as IOError where error.errnoCode == ENETUNREACH || error.errnoCode == EHOSTUNREACH:
            return "network unreachable"
        case let error as IOError:
            return "connection error (errno \(error.errnoCode))"
        default:
            return "connection error (\(type(of: error)))"
        }
    }

    /// Percent-encodes a query value (the signer signs it unencoded; Pusher decodes before checking).
    private static func queryEncoded(_ value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
