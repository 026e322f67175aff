import AutoHomeSupport

/// The fixed-size event ring of the seed design (SPEC §2.2): `capacity` slots of
/// `slotBytes` each, allocated once at start-up. A full ring says "busy"; it
/// never grows and never drops an event silently.
public final class EventRing: @unchecked Sendable {
    public let capacity: Int
    public let slotBytes: Int
    private let storage: UnsafeMutableRawPointer
    private var freeSlots: [Int32]
    /// One length per slot, written by `store` and read by `bytes` without
    /// the lock, like the slot's bytes: a slot has one owner at a time (the
    /// dispatcher's queue orders the hand-over). A Swift array would not do:
    /// `lengths[i] = n` is a write to the whole array variable, racing with
    /// a worker's read of another slot's length (TSan, `make sanitize`).
    private let lengths: UnsafeMutablePointer<Int32>
    private let lock = Lock()

    public init(capacity: Int, slotBytes: Int) {
        precondition(capacity > 0 && slotBytes > 0)
        self.capacity = capacity
        self.slotBytes = slotBytes
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity * slotBytes, alignment: 16)
        // Touch every page now, so the ring's memory is really ours from the start.
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity * slotBytes)
        freeSlots = (0..<Int32(capacity)).reversed().map { $0 }
        lengths = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        lengths.initialize(repeating: 0, count: capacity)
    }

    deinit {
        storage.deallocate()
        lengths.deallocate()
    }

    public var used: Int { lock.withLock { capacity - freeSlots.count } }

    /// Copies `bytes` into a free slot; nil when the ring is full.
    public func store(_ bytes: UnsafeRawBufferPointer) -> Int? {
        precondition(bytes.count <= slotBytes)
        guard let slot = lock.withLock({ freeSlots.popLast() }) else { return nil }
        let i = Int(slot)
        if let base = bytes.baseAddress { (storage + i * slotBytes).copyMemory(from: base, byteCount: bytes.count) }
        lengths[i] = Int32(bytes.count)
        return i
    }

    /// The bytes of an occupied slot; valid until `release`.
    public func bytes(_ slot: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + slot * slotBytes, count: Int(lengths[slot]))
    }

    public func release(_ slot: Int) {
        lock.withLock { freeSlots.append(Int32(slot)) }
    }
}
