import AutoHomeSupport

/// A fixed-size ring of a property's last values, allocated when the device is
/// defined (SPEC §1 "Value history"): writing never allocates.
public struct HistoryPoint: Sendable, Equatable {
    public var value: PropertyValue
    /// Unix ms.
    public var time: Int64
    public init(value: PropertyValue, time: Int64) { self.value = value; self.time = time }
}

public struct ValueHistory: Sendable {
    private var slots: [HistoryPoint]
    private var next = 0
    public private(set) var count = 0

    public init(capacity: Int, initial: PropertyValue, time: Int64) {
        precondition(capacity >= 1)
        slots = [HistoryPoint](repeating: HistoryPoint(value: initial, time: time), count: capacity)
        next = 1 % capacity
        count = 1
    }

    public var capacity: Int { slots.count }

    public mutating func record(_ value: PropertyValue, time: Int64) {
        slots[next] = HistoryPoint(value: value, time: time)
        next = (next + 1) % slots.count
        if count < slots.count { count += 1 }
    }

    /// Up to `n` points, newest first.
    public func newest(_ n: Int) -> [HistoryPoint] {
        let k = Swift.min(Swift.max(n, 0), count)
        var out: [HistoryPoint] = []
        out.reserveCapacity(k)
        var i = next
        for _ in 0..<k {
            i = (i - 1 + slots.count) % slots.count
            out.append(slots[i])
        }
        return out
    }
}
