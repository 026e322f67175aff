/// A queue over an array with a moving head: O(1) push and pop, storage reused.
struct FIFO<T> {
    private var items: [T?] = []
    private var head = 0

    init(reserve: Int = 0) { items.reserveCapacity(reserve) }

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func push(_ x: T) { items.append(x) }

    mutating func pop() -> T? {
        guard head < items.count else { return nil }
        let x = items[head]
        items[head] = nil
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return x
    }
}
