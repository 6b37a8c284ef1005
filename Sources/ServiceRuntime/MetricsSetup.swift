import Metrics
import Prometheus

/// Prometheus metrics for every executable, through swift-metrics.
public enum MetricsSetup {
    /// Bootstraps swift-metrics with a Prometheus registry and returns the registry for `/metrics`.
    public static func bootstrap() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}

extension PrometheusCollectorRegistry {
    /// The registry's metrics in the Prometheus text format.
    public func renderText() -> String {
        var buffer: [UInt8] = []
        emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
