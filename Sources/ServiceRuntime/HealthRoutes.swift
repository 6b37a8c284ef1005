import Hummingbird
import Prometheus
import Redis
import SignalBus

/// `GET /health`, `GET /ready` (Redis reachable, and nothing holding new work back) and `GET /metrics`
/// (Prometheus text), shared by the gateway and the receivers' metrics listener.
public enum HealthRoutes {
    /// Adds the three routes to `router`.
    /// - Parameter notReady: why the service should get no new work now (a backlog past its limit), or `nil`.
    public static func add(
        to router: Router<some RequestContext>, redis: any RedisCommandRunner, registry: PrometheusCollectorRegistry,
        notReady: @escaping @Sendable () -> String? = { nil }
    ) {
        router.get("/health") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/ready") { _, _ in
            do {
                try await redis.execute(RedisCommand("PING"), timeout: .seconds(1))
                if let reason = notReady() {
                    return Response(
                        status: .serviceUnavailable, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: JSONText.object([("status", JSONText.quoted("backlogged")), ("reason", JSONText.quoted(reason))])))
                    )
                }
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ready"}"#)))
            } catch {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"status":"redis unreachable"}"#))
                )
            }
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: registry.renderText()))
            )
        }
    }
}
