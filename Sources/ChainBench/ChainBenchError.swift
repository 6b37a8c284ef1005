/// A benchmark that could not run, or ran and produced a wrong result.
public struct ChainBenchError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for the operator.
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
