/// One change to Redis state that a receiver's effect asks for. The bus applies all of a message's writes,
/// with its emissions and its acknowledgement, in one atomic script.
public enum Write: Sendable, Hashable {
    /// `HSET key field value`.
    case hashSet(key: String, field: String, value: String)
    /// `HDEL key field`.
    case hashDelete(key: String, field: String)
    /// `HINCRBY key field amount`.
    case hashIncrement(key: String, field: String, amount: Int64)
    /// Sets the field to `value` when it is absent or smaller (the seed's `max__field`).
    case hashMax(key: String, field: String, value: Int64)
    /// Sets the field to `value` when it is absent or larger (the seed's `min__field`).
    case hashMin(key: String, field: String, value: Int64)
    /// `DEL key`.
    case delete(key: String)
    /// `SADD key member`.
    case setAdd(key: String, member: String)
    /// `SREM key member`.
    case setRemove(key: String, member: String)
    /// `ZADD key score member`.
    case sortedSetAdd(key: String, score: Int64, member: String)
    /// `ZREM key member`.
    case sortedSetRemove(key: String, member: String)
    /// `XADD key * fields…` on a plain stream (ledger, outbox, analytics); a group keeps its sinks trimmed.
    case streamAppend(key: String, fields: [String])

    /// The key this write touches.
    public var key: String {
        switch self {
        case .hashSet(let key, _, _), .hashDelete(let key, _), .hashIncrement(let key, _, _),
             .hashMax(let key, _, _), .hashMin(let key, _, _), .delete(let key), .setAdd(let key, _),
             .setRemove(let key, _), .sortedSetAdd(let key, _, _), .sortedSetRemove(let key, _),
             .streamAppend(let key, _):
            key
        }
    }

    /// A short human description for traces: `HSET goal:{g1} active=0`.
    public var summary: String {
        switch self {
        case .hashSet(let key, let field, let value): "HSET \(key) \(field)=\(value)"
        case .hashDelete(let key, let field): "HDEL \(key) \(field)"
        case .hashIncrement(let key, let field, let amount): "HINCRBY \(key) \(field) \(amount)"
        case .hashMax(let key, let field, let value): "max \(key) \(field) \(value)"
        case .hashMin(let key, let field, let value): "min \(key) \(field) \(value)"
        case .delete(let key): "DEL \(key)"
        case .setAdd(let key, let member): "SADD \(key) \(member)"
        case .setRemove(let key, let member): "SREM \(key) \(member)"
        case .sortedSetAdd(let key, let score, let member): "ZADD \(key) \(score) \(member)"
        case .sortedSetRemove(let key, let member): "ZREM \(key) \(member)"
        case .streamAppend(let key, _): "XADD \(key)"
        }
    }
}
