import AutoHome
import AutoHomeSupport

/// Groups changed through the API (`PUT`/`DELETE /v1/groups/<id>`) survive a
/// restart in `<dataDir>/groups.json` until the SQLite store lands. Once the
/// API has changed groups, that file is the whole group set and replaces the
/// config's `groups` at start-up (remove the file to go back to the config).
public final class GroupFile: @unchecked Sendable {
    public let path: String?

    public init(dataDir: String?) { path = dataDir.map { $0 + "/groups.json" } }

    /// The saved set, or nil when the API never changed groups.
    public func load() throws(FileError) -> [GroupDefinition]? {
        guard let path, Files.exists(path) else { return nil }
        let json: JSON
        do { json = try JSON.parse(bytes: try Files.read(path)) } catch let e as FileError { throw e } catch {
            throw FileError("\(path): \(error)")
        }
        guard let list = json["groups"]?.arrayValue else { throw FileError("\(path): needs an array \"groups\"") }
        var out: [GroupDefinition] = []
        for (i, g) in list.enumerated() {
            do throws(ModelError) { out.append(try GroupDefinition.decode(g, path: "groups[\(i)]")) } catch {
                throw FileError("\(path): \(error.description)")
            }
        }
        return out
    }

    public func save(_ groups: [GroupDefinition]) throws(FileError) {
        guard let path else { return }
        let json = JSON.object([("groups", .array(groups.map(\.json)))])
        try Files.makeDirectories(Files.directoryName(path))
        try Files.writeAtomically(path, Array((json.text + "\n").utf8))
    }
}
