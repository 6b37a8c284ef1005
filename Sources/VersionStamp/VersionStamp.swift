import Foundation
import PackagePlugin

/// Generates `BuildVersion.swift` for a target before every build: `buildVersion`, the version the
/// binaries are built from.
///
/// It is `git describe --tags --always --dirty` of the package, read without network; without a git
/// history (a source archive, a Docker build whose context leaves `.git` out) it is `GOAL_SIGNALS_VERSION`
/// from the build's environment, else `unknown`. The file is rewritten only when the version changes, so
/// an unchanged version recompiles nothing.
@main
struct VersionStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let directory = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let fallback = ProcessInfo.processInfo.environment["GOAL_SIGNALS_VERSION"].flatMap { $0.isEmpty ? nil : $0 } ?? "unknown"
        return [
            .prebuildCommand(
                displayName: "Stamping the build version of \(target.name)",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [
                    "-c", Self.script, "version-stamp", context.package.directoryURL.path,
                    directory.appending(path: "BuildVersion.swift").path, fallback,
                ],
                outputFilesDirectory: directory
            ),
        ]
    }

    /// `$1` the package, `$2` the file to write, `$3` the version without git.
    static let script = #"""
        set -u
        version=$(git -C "$1" describe --tags --always --dirty 2>/dev/null | tr -cd 'A-Za-z0-9._+-')
        [ -n "$version" ] || version=$(printf '%s' "$3" | tr -cd 'A-Za-z0-9._+-')
        [ -n "$version" ] || version=unknown
        mkdir -p "$(dirname "$2")"
        printf '/// The version the binaries were built from (`git describe --tags --always --dirty`, or "unknown").\nlet buildVersion = "%s"\n' "$version" > "$2.new"
        if cmp -s "$2.new" "$2"; then rm -f "$2.new"; else mv "$2.new" "$2"; fi
        """#
}
