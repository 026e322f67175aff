#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// `<dataDir>/tokens.json`: `{"tokens": [{"hash","scope","created"}]}`, mode 0600.
enum TokenFile {
    static func read(_ path: String) throws(StorageError) -> [StoredToken] {
        let json = try JSONDocument.read(path)
        var out: [StoredToken] = []
        for item in json["tokens"]?.arrayValue ?? [] {
            guard let hash = item["hash"]?.stringValue, hash.utf8.count == 64, let scope = item["scope"]?.stringValue else {
                throw StorageError("\(path): a token entry needs \"hash\" (64 hex digits) and \"scope\"")
            }
            out.removeAll { $0.hash == hash }
            out.append(StoredToken(hash: hash, scope: scope, created: Int64(item["created"]?.numberValue ?? 0)))
        }
        return out
    }
}

/// Reading one JSON document, with errors that name the file.
enum JSONDocument {
    static func read(_ path: String) throws(StorageError) -> JSON {
        do { return try JSON.parse(bytes: try Files.read(path)) } catch let e as FileError { throw StorageError(e) } catch {
            throw StorageError("\(path): \(error)")
        }
    }

    static func list(_ json: JSON, _ key: String, in path: String) throws(StorageError) -> [JSON] {
        guard let list = json[key]?.arrayValue else { throw StorageError("\(path): needs an array \"\(key)\"") }
        return list
    }
}
