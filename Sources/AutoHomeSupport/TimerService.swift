#if canImport(Glibc)
import Glibc
#endif

/// The daemon's one timer thread ("ah-timers"): countdowns, the action-stream
/// heartbeat, the store's flush, debounce and sun events all schedule here
/// instead of each keeping a sleeping thread of its own.
///
/// Thread contract: `schedule`, `cancel` and `stop` may be called from any
/// thread, also from inside a callback. Callbacks run on the timer thread, one
/// at a time, in deadline order; they must be short and must not block (hand
/// real work to a queue: the dispatcher, the store writer). Deadlines are on
/// the monotonic clock, so a wall-clock step does not fire or delay them.
public final class TimerService: @unchecked Sendable {
    public struct ID: Hashable, Sendable {
        fileprivate let raw: UInt64
    }

    private struct Entry {
        var id: UInt64
        var due: UInt64          // monotonic ns
        var interval: UInt64?    // ns; repeating when set
        var callback: () -> Void
    }

    private let lock = Lock()
    private let changed = Condition()
    /// Min-heap on (due, id): the next deadline is entries[0].
    private var heap: [Entry] = []
    /// Cancelled ids still in the heap; skipped when they come up.
    private var cancelled = Set<UInt64>()
    private var live = Set<UInt64>()
    private var nextId: UInt64 = 0
    private var stopping = false
    private var running = false
    public let name: String

    public init(name: String = "ah-timers") { self.name = name }

    /// Runs `callback` once after `ms` milliseconds, or every `ms` with `repeating`.
    @discardableResult
    public func schedule(afterMillis ms: Int64, repeating: Bool = false, _ callback: @escaping () -> Void) -> ID {
        let ns = UInt64(max(ms, 0)) * 1_000_000
        return lock.withLock {
            nextId += 1
            let e = Entry(id: nextId, due: monotonicNanos() + ns, interval: repeating ? max(ns, 1_000_000) : nil, callback: callback)
            push(e)
            live.insert(e.id)
            startIfNeeded()
            changed.signal()
            return ID(raw: e.id)
        }
    }

    /// Cancels a timer; a callback already running finishes. Unknown ids are ignored.
    public func cancel(_ id: ID) {
        lock.withLock {
            if live.remove(id.raw) != nil { cancelled.insert(id.raw) }
        }
    }

    /// How many timers are armed (tests, status).
    public var count: Int { lock.withLock { live.count } }

    /// Ends the thread; pending timers never fire. Idempotent.
    public func stop() {
        lock.withLock {
            stopping = true
            changed.broadcast()
            while running { changed.wait(lock) }
        }
    }

    private func startIfNeeded() {
        guard !running, !stopping else { return }
        running = true
        spawnThread(name: name) { [self] in loop() }
    }

    private func loop() {
        lock.lock()
        while !stopping {
            guard let first = heap.first else { changed.wait(lock); continue }
            if cancelled.remove(first.id) != nil { _ = pop(); continue }
            let now = monotonicNanos()
            if first.due > now { changed.wait(lock, untilMonotonicNanos: first.due); continue }
            var e = pop()
            if let interval = e.interval {
                e.due = max(e.due + interval, now)
                push(e)
            } else {
                live.remove(e.id)
            }
            lock.unlock()
            e.callback()
            lock.lock()
        }
        running = false
        changed.broadcast()
        lock.unlock()
    }

    // MARK: heap

    private func less(_ a: Entry, _ b: Entry) -> Bool { (a.due, a.id) < (b.due, b.id) }

    private func push(_ e: Entry) {
        heap.append(e)
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard less(heap[i], heap[p]) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    private func pop() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count && less(heap[l], heap[m]) { m = l }
                if r < heap.count && less(heap[r], heap[m]) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
