import Metrics
import Prometheus

/// Prometheus metrics for every executable, through swift-metrics.
public enum MetricsSetup {
    /// Bootstraps swift-metrics with a Prometheus registry and returns the registry for `/metrics`.
    /// - Parameter valueBuckets: the histogram buckets of value recorders, by label, where the default
    ///   buckets (5 to 10,000) do not fit.
    public static func bootstrap(valueBuckets: [String: [Double]] = [:]) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = valueBuckets
        MetricsSystem.bootstrap(factory)
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
