/// A queue over an array with a moving head: O(1) push and pop, storage reused.
/// Inlinable: the dispatcher's hot path uses it from another module, and an
/// unspecialised generic there would cost a call and boxing per push.
public struct FIFO<T> {
    @usableFromInline var items: [T?] = []
    @usableFromInline var head = 0

    @inlinable public init(reserve: Int = 0) { items.reserveCapacity(reserve) }

    @inlinable public var isEmpty: Bool { head == items.count }
    @inlinable public var count: Int { items.count - head }

    @inlinable public mutating func push(_ x: T) { items.append(x) }

    @inlinable public mutating func pop() -> T? {
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
