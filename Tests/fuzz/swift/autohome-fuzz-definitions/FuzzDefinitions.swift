import AutoHome
import AutoHomeSupport
import FuzzDriver
import Glibc

/// libFuzzer harness: device and group definitions as POST /v1/devices, PUT
/// /v1/groups/<id> and the config take them (`DeviceDefinition.decode`,
/// `GroupDefinition.decode`), and a list of groups through `GroupGraph`.
///
/// Checked beyond "no crash, no hang":
///  - a definition that decodes prints (definitionJSON / json) and decodes
///    back to the same definition: what devices.json and groups.json keep is
///    what was accepted;
///  - a refusal names a field;
///  - a graph that validates has no cycle, and group membership agrees both
///    ways: d is in group g (devices(inGroup:)) exactly when g is among d's
///    ancestors (ancestors(ofDevice:)), each ancestor listed once.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDefinitions(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let json = try? JSON.parse(bytes: UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    switch json {
    case .object: fuzzOne(json)
    case .array(let items): fuzzGraph(items)
    default: break
    }
    return 0
}

func fuzzOne(_ json: JSON) {
    do throws(ModelError) {
        let def = try DeviceDefinition.decode(json)
        let again: DeviceDefinition
        do throws(ModelError) { again = try DeviceDefinition.decode(def.definitionJSON) } catch {
            fatalError("a saved device definition does not load: \(error) in \(def.definitionJSON.text)")
        }
        if again != def { fatalError("device definition changed on the way through devices.json: \(def.definitionJSON.text)") }
    } catch {
        if error.field == nil { fatalError("device definition refused without naming a field: \(error.message)") }
    }
    do throws(ModelError) {
        let g = try GroupDefinition.decode(json)
        let again: GroupDefinition
        do throws(ModelError) { again = try GroupDefinition.decode(g.json) } catch {
            fatalError("a saved group does not load: \(error) in \(g.json.text)")
        }
        if again != g { fatalError("group changed on the way through groups.json: \(g.json.text)") }
        // The same body under PUT /v1/groups/<its id>.
        _ = try GroupDefinition.decode(json, id: g.id)
    } catch {
        if error.field == nil { fatalError("group refused without naming a field: \(error.message)") }
    }
}

func fuzzGraph(_ items: [JSON]) {
    var groups: [GroupDefinition] = []
    for (i, item) in items.prefix(64).enumerated() {
        guard let g = try? GroupDefinition.decode(item, path: "groups[\(i)]") else { continue }
        groups.append(g)
    }
    // Every listed device is known except those named "x…", so unknown
    // members are reachable too.
    var known = Set<String>()
    for g in groups { for d in g.devices where !d.hasPrefix("x") { known.insert(d) } }
    let graph: GroupGraph
    do throws(ModelError) { graph = try GroupGraph(groups, knownDevices: known) } catch {
        if error.field == nil { fatalError("group graph refused without naming a field: \(error.message)") }
        return
    }
    for g in groups {
        guard let members = graph.devices(inGroup: g.id) else { fatalError("group \(g.id) missing from its graph") }
        if Set(members).count != members.count { fatalError("devices(inGroup: \(g.id)) lists a device twice") }
        for d in members where !graph.ancestors(ofDevice: d).contains(where: { $0.id == g.id }) {
            fatalError("\(d) is in \(g.id) but \(g.id) is not among its ancestors")
        }
    }
    for d in known {
        let up = graph.ancestors(ofDevice: d)
        if Set(up.map(\.id)).count != up.count { fatalError("ancestors(ofDevice: \(d)) lists a group twice") }
        for a in up where !graph.isDevice(d, inGroup: a.id) {
            fatalError("\(a.id) is an ancestor of \(d) but does not contain it")
        }
    }
    // PUT and DELETE of one group on a valid graph: either a valid graph or
    // an error naming a field.
    if let first = groups.first {
        do throws(ModelError) { _ = try graph.replacing(nil, removing: first.id, knownDevices: known) } catch {
            if error.field == nil { fatalError("removing a group refused without naming a field") }
        }
        if let last = groups.last {
            var changed = last
            changed.groups = [first.id]
            do throws(ModelError) { _ = try graph.replacing(changed, knownDevices: known) } catch {
                if error.field == nil { fatalError("replacing a group refused without naming a field") }
            }
        }
    }
}

@main
struct FuzzDefinitionsMain {
    static func main() {
        exit(fuzz_driver_run(CommandLine.argc, CommandLine.unsafeArgv, { fuzzDefinitions($0, $1) }))
    }
}
