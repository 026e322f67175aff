import AutoHomeSupport

/// The validated, immutable group hierarchy. Replaced whole when groups change,
/// so a run can hold on to the one it started with.
public final class GroupGraph: @unchecked Sendable {
    public let groups: [GroupDefinition]
    private let byId: [String: Int]
    /// group index -> indices of the groups that list it as a child
    private let parents: [[Int]]
    /// device id -> indices of the groups listing it directly
    private let directGroups: [String: [Int]]

    public static let empty = try! GroupGraph([], knownDevices: [])

    /// Rejects duplicate ids, unknown member devices or groups, and cycles.
    public init(_ groups: [GroupDefinition], knownDevices: Set<String>) throws(ModelError) {
        var byId: [String: Int] = [:]
        for (i, g) in groups.enumerated() {
            if byId[g.id] != nil { throw ModelError("group \"\(g.id)\" is defined twice", field: "groups[\(i)].id") }
            byId[g.id] = i
        }
        var parents = [[Int]](repeating: [], count: groups.count)
        var direct: [String: [Int]] = [:]
        for (i, g) in groups.enumerated() {
            for d in g.devices {
                guard knownDevices.contains(d) else {
                    throw ModelError("group \"\(g.id)\" lists unknown device \"\(d)\"", field: "groups[\(i)].devices")
                }
                if !(direct[d]?.contains(i) ?? false) { direct[d, default: []].append(i) }
            }
            for c in g.groups {
                guard let ci = byId[c] else {
                    throw ModelError("group \"\(g.id)\" lists unknown group \"\(c)\"", field: "groups[\(i)].groups")
                }
                if !parents[ci].contains(i) { parents[ci].append(i) }
            }
        }
        self.groups = groups
        self.byId = byId
        self.parents = parents
        self.directGroups = direct
        if let cycle = findCycle() {
            throw ModelError("groups form a cycle: \(cycle.joined(separator: " -> "))", field: "groups")
        }
    }

    private func findCycle() -> [String]? {
        // 0 unvisited, 1 on the current path, 2 done
        var state = [UInt8](repeating: 0, count: groups.count)
        var path: [Int] = []
        func visit(_ i: Int) -> [String]? {
            state[i] = 1
            path.append(i)
            for c in groups[i].groups {
                let ci = byId[c]!
                if state[ci] == 1 {
                    let from = path.firstIndex(of: ci)!
                    return (path[from...] + [ci]).map { groups[$0].id }
                }
                if state[ci] == 0, let found = visit(ci) { return found }
            }
            path.removeLast()
            state[i] = 2
            return nil
        }
        for i in groups.indices where state[i] == 0 {
            if let c = visit(i) { return c }
        }
        return nil
    }

    public func group(_ id: String) -> GroupDefinition? { byId[id].map { groups[$0] } }

    /// Step 2's order: the groups holding the device, then their parents,
    /// recursively, each once at its nearest distance; ties broken by group id.
    public func ancestors(ofDevice id: String) -> [GroupDefinition] {
        guard let start = directGroups[id] else { return [] }
        var seen = Set(start)
        var level = start.sorted { groups[$0].id < groups[$1].id }
        var out: [GroupDefinition] = []
        while !level.isEmpty {
            out.append(contentsOf: level.map { groups[$0] })
            var next: [Int] = []
            for g in level {
                for p in parents[g] where seen.insert(p).inserted { next.append(p) }
            }
            level = next.sorted { groups[$0].id < groups[$1].id }
        }
        return out
    }

    /// Every device in the group or its descendants, once, in listing order.
    public func devices(inGroup id: String) -> [String]? {
        guard let start = byId[id] else { return nil }
        var out: [String] = []
        var seenDevices = Set<String>()
        var seenGroups = Set<Int>()
        func walk(_ i: Int) {
            guard seenGroups.insert(i).inserted else { return }
            for d in groups[i].devices where seenDevices.insert(d).inserted { out.append(d) }
            for c in groups[i].groups { walk(byId[c]!) }
        }
        walk(start)
        return out
    }

    public func isDevice(_ device: String, inGroup group: String) -> Bool {
        devices(inGroup: group)?.contains(device) ?? false
    }

    /// A new, validated hierarchy with `group` added or replaced and/or the
    /// group `id` removed (PUT and DELETE /v1/groups/<id>).
    public func replacing(_ group: GroupDefinition?, removing id: String? = nil, knownDevices: Set<String>) throws(ModelError) -> GroupGraph {
        var list = groups
        if let id { list.removeAll { $0.id == id } }
        if let group {
            if let i = list.firstIndex(where: { $0.id == group.id }) { list[i] = group } else { list.append(group) }
        }
        return try GroupGraph(list, knownDevices: knownDevices)
    }
}
