import GoalDomain
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import Prometheus
import Redis
import ServiceLifecycle
import ServiceRuntime
import SignalBus

/// Builds the gateway's HTTP application: `POST /notify/pusher`, `GET /health`, `GET /ready`, `GET /metrics`.
public enum GatewayApp {
    /// The application, ready to run as a service; it runs the ``PublishQueue`` that stores the webhooks'
    /// events and stops it after the HTTP server on graceful shutdown.
    /// - Throws: ``RedisError`` when a cluster client cannot be made of the seeds.
    /// - Parameter backpressure: what the ``BacklogMonitor`` measured: while some group's backlog is past its
    ///   limit, webhooks get 503 with `Retry-After` and `/ready` says why.
    public static func build(
        settings: GatewaySettings, redis: RedisEndpoint, bus: BusConfiguration, backpressure: Backpressure, registry: PrometheusCollectorRegistry,
        logger: Logger
    ) throws -> some Service {
        let metrics = WebhookMetrics()
        // One queue stores every webhook's events, those arriving while a store is in flight together.
        let queue = try PublishQueue(
            redis: redis, configuration: bus, dedupSeconds: settings.dedupSeconds, name: "gateway-publish", batchMessages: metrics.batchMessages
        )
        let handler = WebhookHandler(settings: settings, queue: queue, bus: bus, backpressure: backpressure, metrics: metrics)
        let router = Router()
        router.add(middleware: StatusCountingMiddleware(metrics: metrics))
        HealthRoutes.add(to: router, redis: try redis.makeRunner(name: "gateway-ready"), registry: registry, notReady: { backpressure.refusal })
        let limit = settings.bodyLimit
        router.post("/notify/pusher") { request, context -> Response in
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
                return json(.error(413, "body larger than \(limit) bytes", field: "body"))
            }
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: limit)
            } catch {
                return json(.error(413, "body larger than \(limit) bytes", field: "body"))
            }
            let result = await handler.handle(
                body: Array(buffer: body),
                key: request.headers[HTTPField.Name("X-Pusher-Key")!],
                signature: request.headers[HTTPField.Name("X-Pusher-Signature")!],
                receivedAtMs: Int64(Clock.unixMilliseconds()),
                logger: context.logger
            )
            return json(result)
        }
        // One event loop reads, handles and answers every request: the handlers run on it as Swift tasks.
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let application = Application(
            router: router,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "goal-signals-gateway"),
            // The application's services stop after its server, so requests in flight are still stored.
            services: [queue],
            eventLoopGroupProvider: .shared(loop),
            logger: logger
        )
        return OnEventLoop(application, executor: EventLoopTaskExecutor(loop))
    }

    private static func json(_ result: WebhookResult) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter = result.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: HTTPResponse.Status(code: result.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: result.body)))
    }
}

/// Counts responses by status for `gateway_requests_total`.
struct StatusCountingMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: WebhookMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(status: response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            metrics.request(status: error.status.code)
            throw error
        }
    }
}
