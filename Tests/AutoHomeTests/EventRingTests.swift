import XCTest
@testable import AutoHome
@testable import AutoHomeSupport

/// The fixed event ring (SPEC §2.2).
final class EventRingTests: XCTestCase {
    func testEventRingSaysBusyWhenFullAndReusesSlots() {
        let ring = EventRing(capacity: 2, slotBytes: 16)
        let bytes: [UInt8] = [1, 2, 3]
        let a = bytes.withUnsafeBytes { ring.store($0) }
        let b = bytes.withUnsafeBytes { ring.store($0) }
        XCTAssertNotNil(a); XCTAssertNotNil(b)
        XCTAssertNil(bytes.withUnsafeBytes { ring.store($0) })
        XCTAssertEqual(ring.used, 2)
        ring.release(a!)
        XCTAssertNotNil(bytes.withUnsafeBytes { ring.store($0) })
        XCTAssertEqual(Array(ring.bytes(b!)), bytes)
    }

    /// Submitters store while workers read and release other slots, as in
    /// the daemon. Under TSan (`make sanitize`) this reported a race on the
    /// slot lengths when they were a Swift array; here every event must come
    /// back with its own bytes.
    func testStoreAndReadOfDifferentSlotsFromDifferentThreads() {
        let ring = EventRing(capacity: 8, slotBytes: 16)
        let lock = Lock(), cond = Condition()
        var handed: [(slot: Int, value: UInt8)] = []
        var finished = false, checked = 0, wrong = 0
        let total = 20_000
        spawnThread(name: "ring-reader") {
            while true {
                let next: (slot: Int, value: UInt8)? = lock.withLock {
                    while handed.isEmpty && !finished { cond.wait(lock) }
                    return handed.isEmpty ? nil : handed.removeFirst()
                }
                guard let next else { break }
                let b = ring.bytes(next.slot)
                if b.count != Int(next.value % 16) + 1 || b.contains(where: { $0 != next.value }) { lock.withLock { wrong += 1 } }
                ring.release(next.slot)
                lock.withLock { checked += 1; cond.broadcast() }
            }
        }
        for k in 0..<total {
            let value = UInt8(k % 251)
            let bytes = [UInt8](repeating: value, count: Int(value % 16) + 1)
            var slot: Int?
            while slot == nil {
                slot = bytes.withUnsafeBytes { ring.store($0) }
                if slot == nil { lock.withLock { while ring.used == ring.capacity { cond.wait(lock) } } }
            }
            lock.withLock { handed.append((slot!, value)); cond.broadcast() }
        }
        lock.withLock {
            finished = true
            cond.broadcast()
            while checked < total { cond.wait(lock) }
        }
        XCTAssertEqual(wrong, 0)
        XCTAssertEqual(ring.used, 0)
    }
}
