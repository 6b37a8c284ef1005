import Foundation
import Redis

/// The bus's Lua scripts, kept as `.lua` files, resources of this module (`Sources/SignalBus/Lua`), where an
/// editor and a reviewer see them as Lua. A script is made of files in order: `prelude.lua` (reading the
/// arguments, announcing a message) first, then what it uses (`reads.lua`), then its own.
///
/// The files travel beside the executables in `goal-signals_SignalBus.resources`, as SwiftPM lays them out;
/// an image must copy that folder with the binaries.
enum BusLua {
    /// A script made of the named files (without `.lua`), in order.
    static func script(_ files: String...) -> RedisScript {
        RedisScript(files.map(source).joined(separator: "\n"))
    }

    /// The text of `Lua/<name>.lua`.
    static func source(_ name: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: "lua", subdirectory: "Lua"),
              let text = try? String(contentsOf: url, encoding: .utf8) else {
            fatalError("the bus's Lua script \(name).lua is missing from goal-signals_SignalBus.resources beside the executable")
        }
        return text
    }

    /// Appends a message's stream fields (`fields`: field/value pairs) as the prelude's `announceTaken` reads
    /// them: their count, the pairs, then the same fields as one JSON object, the text published, written
    /// straight into the arguments.
    static func appendMessage(_ fields: [(String, String)], to arguments: inout RedisArguments) {
        arguments.append(fields.count)
        for (field, value) in fields {
            arguments.append(field)
            arguments.append(value)
        }
        arguments.append(JSONMembers(fields, braced: true))
    }
}
