import AutoHomeSupport

/// `home.setGlobal`/`getGlobal`: JSON values shared by every VM, kept as JSON
/// text so no VM ever holds another VM's objects.
final class SharedGlobals: @unchecked Sendable {
    private let lock = Lock()
    private var values: [String: String] = [:]
    static let maxBytes = 64 * 1024

    func set(_ name: String, json: String) throws(ModelError) {
        guard json.utf8.count <= SharedGlobals.maxBytes else {
            throw ModelError("home.setGlobal(\"\(name)\"): value is larger than \(SharedGlobals.maxBytes) bytes of JSON")
        }
        lock.withLock { values[name] = json }
    }

    func get(_ name: String) -> String? { lock.withLock { values[name] } }
}
