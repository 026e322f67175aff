import AutoHome
import AutoHomeSupport

/// `<dataDir>/groups.json`: once the API has changed groups, this file is the
/// whole group set and replaces the config's `groups` at start-up.
enum GroupFile {
    /// nil when the API never changed groups (no file).
    static func read(_ path: String) throws(StorageError) -> [GroupDefinition]? {
        guard Files.exists(path) else { return nil }
        let json = try JSONDocument.read(path)
        var out: [GroupDefinition] = []
        for (i, g) in try JSONDocument.list(json, "groups", in: path).enumerated() {
            do throws(ModelError) { out.append(try GroupDefinition.decode(g, path: "groups[\(i)]")) } catch {
                throw StorageError("\(path): \(error.description)")
            }
        }
        return out
    }
}
