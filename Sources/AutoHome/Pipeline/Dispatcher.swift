import AutoHomeSupport

/// Hands work to the VM worker threads (SPEC §2.3): one device's events one at
/// a time in arrival order, different devices in parallel, one VM per worker.
/// Script tasks (countdowns, thread(), onstart) share the same workers.
final class Dispatcher: @unchecked Sendable {
    struct QueuedEvent {
        let ringSlot: Int
        let seq: UInt64
        /// When the event was admitted: repeat windows count from arrival,
        /// not from when a VM got to it.
        let arrivedAt: Int64
        let completion: ((EventResult) -> Void)?
    }

    enum Task {
        case onstart(generation: Int)
        case countdown(Countdowns.Entry)
        case thread(function: String, valueJSON: String)
        case pluginEvent(plugin: String, event: String, dataJSON: String)
    }

    private enum Work {
        case event(QueuedEvent, deviceSlot: Int)
        case task(Task)
    }

    private struct DeviceQueue {
        var pending = FIFO<QueuedEvent>()
        var running = false
        var ready = false
    }

    private let lock = Lock()
    private let workAvailable = Condition()
    private let idle = Condition()
    private var devices: [DeviceQueue] = []
    private var ready = FIFO<Int>()
    private var tasks = FIFO<Task>()
    private var pinned: [FIFO<Task>]
    private var outstanding = 0
    private var busy = 0
    private var stopping = false
    private var running = 0
    let vms: [ScriptVM]
    static let maxPendingTasks = 1024

    /// Runs one event on a VM (set by EventManager).
    var processEvent: ((ScriptVM, QueuedEvent, Int) -> Void)!
    /// Runs one task on a VM (set by EventManager).
    var processTask: ((ScriptVM, Task) -> Void)!
    /// Brings a VM to the current script generation before a job.
    var prepare: ((ScriptVM) -> Void)!

    init(vms: [ScriptVM]) {
        self.vms = vms
        pinned = [FIFO<Task>](repeating: FIFO<Task>(), count: vms.count)
    }

    var busyWorkers: Int { lock.withLock { busy } }

    func enqueue(_ e: QueuedEvent, deviceSlot: Int) {
        lock.withLock {
            while devices.count <= deviceSlot { devices.append(DeviceQueue()) }
            devices[deviceSlot].pending.push(e)
            outstanding += 1
            if !devices[deviceSlot].running && !devices[deviceSlot].ready {
                devices[deviceSlot].ready = true
                ready.push(deviceSlot)
                workAvailable.signal()
            }
        }
    }

    /// False when too many tasks are already waiting (a runaway `thread()` loop).
    @discardableResult
    func enqueue(_ t: Task, pinnedTo vm: Int? = nil) -> Bool {
        lock.withLock {
            if let vm {
                pinned[vm].push(t)
                outstanding += 1
                workAvailable.broadcast()
                return true
            }
            guard tasks.count < Dispatcher.maxPendingTasks else { return false }
            tasks.push(t)
            outstanding += 1
            workAvailable.signal()
            return true
        }
    }

    func start() {
        for vm in vms {
            running += 1
            spawnThread(name: "ah-vm\(vm.index)", stackBytes: 4 << 20) { [self] in workerLoop(vm) }
        }
    }

    /// Waits until every queued event and task has finished (replay, tests, stop).
    func waitIdle() {
        lock.withLock { while outstanding > 0 { idle.wait(lock) } }
    }

    /// False if work is still outstanding after `timeoutMs`.
    func waitIdle(timeoutMs: Int) -> Bool {
        let deadline = monotonicNanos() + UInt64(max(0, timeoutMs)) * 1_000_000
        return lock.withLock {
            while outstanding > 0 && monotonicNanos() < deadline { idle.wait(lock, untilMonotonicNanos: deadline) }
            return outstanding == 0
        }
    }

    func stop() {
        waitIdle()
        lock.withLock {
            stopping = true
            workAvailable.broadcast()
            while running > 0 { idle.wait(lock) }
        }
    }

    private func next(for vm: ScriptVM) -> Work? {
        while true {
            if stopping { return nil }
            if let t = pinned[vm.index].pop() { return .task(t) }
            if let d = ready.pop() {
                devices[d].ready = false
                devices[d].running = true
                return .event(devices[d].pending.pop()!, deviceSlot: d)
            }
            if let t = tasks.pop() { return .task(t) }
            workAvailable.wait(lock)
        }
    }

    private func workerLoop(_ vm: ScriptVM) {
        while true {
            lock.lock()
            guard let work = next(for: vm) else {
                running -= 1
                idle.broadcast()
                lock.unlock()
                return
            }
            busy += 1
            lock.unlock()

            prepare(vm)
            switch work {
            case .event(let e, let d): processEvent(vm, e, d)
            case .task(let t): processTask(vm, t)
            }

            lock.lock()
            busy -= 1
            if case .event(_, let d) = work {
                devices[d].running = false
                if !devices[d].pending.isEmpty {
                    devices[d].ready = true
                    ready.push(d)
                    workAvailable.signal()
                }
            }
            outstanding -= 1
            if outstanding == 0 { idle.broadcast() }
            lock.unlock()
        }
    }
}
