import AutoHomeSupport

/// The live state of every device, with multi-version snapshots.
///
/// A run opens a snapshot (one integer) and reads device versions lazily; each
/// device keeps the few versions some open snapshot may still need. So opening a
/// snapshot costs the same with 10 or 1000 devices, and a run costs what it
/// touches (ARCHITECTURE.md, "A snapshot is cheap").
public final class HomeState: @unchecked Sendable {
    final class Record {
        let slot: Int
        var versions: [DeviceVersion]     // ascending seq; last is live
        var history: [ValueHistory]
        var windowEnds: [Int64]
        /// Deleted (`DELETE /v1/devices/<id>`): the slot stays, so queued
        /// work that names it finds "no longer exists" instead of another device.
        var removed = false
        init(slot: Int, version: DeviceVersion, history: [ValueHistory]) {
            self.slot = slot
            self.versions = [version]
            self.history = history
            self.windowEnds = [Int64](repeating: Int64.min, count: version.values.count)
        }
        var live: DeviceVersion { versions[versions.count - 1] }
    }

    private let lock = Lock()
    private var records: [Record] = []
    private var byId: [String: Int] = [:]
    private var seq: UInt64 = 0
    private var openSnapshots: [UInt64: Int] = [:]
    private var groupGraph = GroupGraph.empty
    private var groupLastRun: [String: Int64] = [:]
    public let defaultHistory: Int
    public let defaultRepeatWindowMs: Int64

    public init(defaultHistory: Int, defaultRepeatWindowMs: Int64) {
        self.defaultHistory = defaultHistory
        self.defaultRepeatWindowMs = defaultRepeatWindowMs
    }

    public enum DefineOutcome: Equatable { case created, updated }

    /// Adds a device, or replaces its definition keeping the current value of
    /// every property whose name and type are unchanged.
    @discardableResult
    public func define(_ def: DeviceDefinition, now: Int64) -> (outcome: DefineOutcome, slot: Int) {
        let schema = DeviceSchema(def)
        let capacity = def.history ?? defaultHistory
        return lock.withLock {
            seq += 1
            if let slot = byId[def.id] {
                let rec = records[slot]
                let old = rec.live
                var values: [PropertyValue] = []
                var history: [ValueHistory] = []
                var windows: [Int64] = []
                for p in def.properties {
                    if let oi = old.schema.propertyIndex(p.name), old.schema.property(oi).type == p.type {
                        var v = old.values[oi]
                        if case .number(let d) = v { v = .number(min(max(d, p.min), p.max)) }
                        values.append(v)
                        history.append(rec.history[oi].capacity == capacity ? rec.history[oi]
                                       : ValueHistory(capacity: capacity, initial: v, time: now))
                        windows.append(rec.windowEnds[oi])
                    } else {
                        values.append(p.initial)
                        history.append(ValueHistory(capacity: capacity, initial: p.initial, time: now))
                        windows.append(Int64.min)
                    }
                }
                rec.versions.append(DeviceVersion(schema: schema, values: values, seq: seq))
                rec.history = history
                rec.windowEnds = windows
                prune(rec)
                return (.updated, slot)
            }
            let slot = records.count
            let version = DeviceVersion(schema: schema, values: def.properties.map(\.initial), seq: seq)
            let history = def.properties.map { ValueHistory(capacity: capacity, initial: $0.initial, time: now) }
            records.append(Record(slot: slot, version: version, history: history))
            byId[def.id] = slot
            return (.created, slot)
        }
    }

    /// Deletes a device: it is gone from lookups, views and snapshots opened
    /// from now on. False when unknown.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        lock.withLock {
            guard let slot = byId.removeValue(forKey: id) else { return false }
            seq += 1
            records[slot].removed = true
            return true
        }
    }

    /// Start-up: puts back a property's stored value and its recent history
    /// (newest first, as the store gives it) without running anything. False
    /// when the device or property is gone or its type changed.
    @discardableResult
    public func restore(_ id: String, property: String, value: PropertyValue, time: Int64, history: [HistoryPoint]) -> Bool {
        lock.withLock {
            guard let slot = byId[id] else { return false }
            let rec = records[slot]
            guard let i = rec.live.schema.propertyIndex(property) else { return false }
            let def = rec.live.schema.property(i)
            var v = value
            switch (def.type, value) {
            case (.switch, .flag), (.text, .text): break
            case (.button, .flag): v = rec.live.values[i]  // a button's value never changes
            case (.dial, .number(let d)): v = .number(min(max(d, def.min), def.max))
            default: return false
            }
            var values = rec.live.values
            values[i] = v
            var points = history.isEmpty ? [HistoryPoint(value: v, time: time)] : history
            // A ring that had not wrapped held the initial value as its first
            // entry (SPEC §4 history(n)); durable history keeps only writes, so
            // put it back, at the time of the oldest write we know.
            if points.count < rec.history[i].capacity {
                points.append(HistoryPoint(value: def.initial, time: points[points.count - 1].time))
            }
            var ring = ValueHistory(capacity: rec.history[i].capacity, initial: points[points.count - 1].value,
                                    time: points[points.count - 1].time)
            for p in points.dropLast().reversed() { ring.record(p.value, time: p.time) }
            rec.history[i] = ring
            seq += 1
            rec.versions = [DeviceVersion(schema: rec.live.schema, values: values, seq: seq)]
            return true
        }
    }

    public var deviceIds: Set<String> { lock.withLock { Set(byId.keys) } }
    public func slot(of id: String) -> Int? { lock.withLock { byId[id] } }

    // MARK: snapshots

    public func openSnapshot() -> Snapshot {
        lock.withLock {
            openSnapshots[seq, default: 0] += 1
            return Snapshot(state: self, seq: seq, groups: groupGraph)
        }
    }

    func close(_ s: Snapshot) {
        lock.withLock {
            if let n = openSnapshots[s.seq] {
                if n <= 1 { openSnapshots[s.seq] = nil } else { openSnapshots[s.seq] = n - 1 }
            }
        }
    }

    func version(_ id: String, at snapshotSeq: UInt64) -> DeviceVersion? {
        lock.withLock {
            guard let slot = byId[id] else { return nil }
            for v in records[slot].versions.reversed() where v.seq <= snapshotSeq { return v }
            return nil
        }
    }

    /// Every device visible at `snapshotSeq`, in definition order.
    func allVersions(at snapshotSeq: UInt64) -> [DeviceVersion] {
        lock.withLock {
            records.compactMap { rec in rec.removed ? nil : rec.versions.last { $0.seq <= snapshotSeq } }
        }
    }

    // MARK: live reads

    public func live(_ id: String) -> DeviceVersion? {
        lock.withLock { byId[id].map { records[$0].live } }
    }

    public func live(slot: Int) -> DeviceVersion { lock.withLock { records[slot].live } }

    public func allLive() -> [DeviceVersion] { lock.withLock { records.filter { !$0.removed }.map(\.live) } }

    public func history(_ id: String, property: String, newest n: Int) -> [HistoryPoint]? {
        lock.withLock {
            guard let slot = byId[id], let pi = records[slot].live.schema.propertyIndex(property) else { return nil }
            return records[slot].history[pi].newest(n)
        }
    }

    // MARK: writes

    /// Writes values to the live device: a new version plus one history point
    /// per property. Returns the new live version.
    @discardableResult
    public func commit(slot: Int, _ changes: [(index: Int, value: PropertyValue)], time: Int64) -> DeviceVersion {
        lock.withLock {
            let rec = records[slot]
            var values = rec.live.values
            for c in changes where c.index < values.count {
                // A button's stored value never changes; its press is still history.
                if rec.live.schema.property(c.index).type != .button { values[c.index] = c.value }
                rec.history[c.index].record(c.value, time: time)
            }
            seq += 1
            rec.versions.append(DeviceVersion(schema: rec.live.schema, values: values, seq: seq))
            prune(rec)
            return rec.live
        }
    }

    /// Keeps the versions an open snapshot may read: all newer than the oldest
    /// open snapshot, plus the newest one at or before it. Caller holds the lock.
    private func prune(_ rec: Record) {
        guard rec.versions.count > 1 else { return }
        let oldest = openSnapshots.keys.min() ?? UInt64.max
        var keepFrom = rec.versions.count - 1
        while keepFrom > 0 && rec.versions[keepFrom].seq > oldest { keepFrom -= 1 }
        if keepFrom > 0 { rec.versions.removeFirst(keepFrom) }
    }

    /// The repeat window (SPEC §1): true if the property may be processed now,
    /// and then closes its window until now + window.
    public func passRepeatWindow(slot: Int, property i: Int, now: Int64) -> Bool {
        lock.withLock {
            let rec = records[slot]
            let window = rec.live.schema.property(i).repeatWindowMs ?? defaultRepeatWindowMs
            if now < rec.windowEnds[i] { return false }
            if window > 0 { rec.windowEnds[i] = now + window }
            return true
        }
    }

    // MARK: groups

    public var groups: GroupGraph { lock.withLock { groupGraph } }

    public func setGroups(_ g: GroupGraph) { lock.withLock { groupGraph = g } }

    /// A group's own repeat window: true if its onchange may run now.
    public func passGroupWindow(_ group: GroupDefinition, now: Int64) -> Bool {
        guard let w = group.repeatWindowMs, w > 0 else { return true }
        return lock.withLock {
            if let last = groupLastRun[group.id], now < last + w { return false }
            groupLastRun[group.id] = now
            return true
        }
    }
}

/// What a run sees: every device as it was when the run started.
public final class Snapshot: @unchecked Sendable {
    let state: HomeState
    public let seq: UInt64
    public let groups: GroupGraph
    private var closed = false

    init(state: HomeState, seq: UInt64, groups: GroupGraph) {
        self.state = state
        self.seq = seq
        self.groups = groups
    }

    public func device(_ id: String) -> DeviceVersion? { state.version(id, at: seq) }
    public func devices() -> [DeviceVersion] { state.allVersions(at: seq) }

    public func close() {
        if !closed { closed = true; state.close(self) }
    }
    deinit { close() }
}
