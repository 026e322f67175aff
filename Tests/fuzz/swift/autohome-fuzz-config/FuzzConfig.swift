import AutoHome
import AutoHomeSupport
import FuzzDriver
import Glibc

/// libFuzzer harness: config.json through `Config.decode(text:)`, the
/// validation `autohomed --check-config` and start-up run. A refusal must be a
/// `ConfigError` naming its source; an accepted config must hold only values
/// in the documented ranges (SPEC §7), with its devices and groups forming a
/// valid graph.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let c: Config
    do throws(ConfigError) { c = try Config.decode(text: text, source: "fuzz.json") } catch {
        if !error.description.hasPrefix("fuzz.json: ") { fatalError("config error without its source: \(error)") }
        return 0
    }
    func within(_ v: Int, _ lo: Int, _ hi: Int, _ key: String) {
        if v < lo || v > hi { fatalError("accepted \(key) = \(v) outside \(lo)...\(hi)") }
    }
    within(c.vms, 1, 64, "vms")
    within(c.ringSize, 1, 1 << 20, "ringSize")
    within(c.maxEventBytes, 256, 1 << 20, "maxEventBytes")
    within(c.propertyHistory, 1, DeviceDefinition.maxHistory, "propertyHistory")
    within(Int(c.repeatWindowMs), 0, 86_400_000, "repeatWindowMs")
    within(c.scriptTimeoutMs, 1, 600_000, "scriptTimeoutMs")
    if ListenAddress.parse(c.listen) == nil { fatalError("accepted listen \(c.listen)") }
    if (c.tlsCert == nil) != (c.tlsKey == nil) { fatalError("accepted a tls cert without key or the reverse") }
    let ids = Set(c.devices.map(\.id))
    if ids.count != c.devices.count { fatalError("accepted a device defined twice") }
    do throws(ModelError) { _ = try GroupGraph(c.groups, knownDevices: ids) } catch {
        fatalError("accepted groups that do not form a graph: \(error)")
    }
    return 0
}

@main
struct FuzzConfigMain {
    static func main() {
        exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv, { fuzzConfig($0, $1) }))
    }
}
