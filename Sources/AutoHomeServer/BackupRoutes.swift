#if canImport(Glibc)
import Glibc
#endif
import AutoHome
import AutoHomeSupport

/// `GET /v1/backup` (admin, an extension to SPEC §5): the whole store as one
/// SQLite file (`application/vnd.sqlite3`), a consistent copy taken while the
/// daemon runs. The copy is made in `dataDir` (next to the store, so on the
/// same card) and removed once read. It holds token hashes and sealed
/// registration ids, not the tokens or ids themselves.
enum BackupRoutes {
    /// The body is held in memory while it is sent: refuse a store larger than this.
    static let maxBytes = 256 << 20

    static func install(on r: Router, _ ctx: ServerContext) {
        r.add(Route("GET", "/v1/backup", access: .scope(.admin), blocking: true) { _ throws(HTTPError) in
            guard let store = ctx.stores.backup else { throw HTTPError(501, "this daemon has no store to back up") }
            let path = ctx.config.dataDir + "/.backup-\(getpid())-\(wallClockMillis()).db"
            defer { _ = unlink(path) }
            do throws(StorageError) { try store.backup(to: path) } catch {
                throw HTTPError(500, "cannot copy the store: \(error.description)")
            }
            let bytes: [UInt8]
            do throws(FileError) { bytes = try Files.read(path, limit: maxBytes) } catch {
                throw HTTPError(507, "cannot send the copy: \(error.description); copy \(ctx.config.dataDir)/auto-home.db with sqlite3 .backup instead")
            }
            Log.info("backup: sent a copy of the store (\(bytes.count) bytes)")
            return Response(status: 200, contentType: "application/vnd.sqlite3", body: bytes)
        })
    }
}
