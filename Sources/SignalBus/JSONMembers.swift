import Redis

/// Fields as a flat JSON object of strings (`{"name":"value",…}`), or only its members when the script adds
/// the braces and more members itself, written as one script argument straight into the arguments' buffer.
struct JSONMembers: RedisArgument {
    let members: [(String, String)]
    /// Whether the braces are written too.
    let braced: Bool

    init(_ members: [(String, String)], braced: Bool) {
        self.members = members
        self.braced = braced
    }

    func appendRedisBytes(to buffer: inout [UInt8]) {
        if braced { buffer.append(UInt8(ascii: "{")) }
        for (index, (name, value)) in members.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(name, to: &buffer)
            buffer.append(UInt8(ascii: ":"))
            JSONText.appendQuoted(value, to: &buffer)
        }
        if braced { buffer.append(UInt8(ascii: "}")) }
    }
}
