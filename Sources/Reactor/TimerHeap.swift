/// The identity of a scheduled timer, good for cancelling it; a stale identity (the timer
/// already fired or was cancelled) is harmless.
public struct TimerID: Equatable, Hashable, Sendable, CustomStringConvertible {
    let slot: Int32
    let generation: UInt32

    public var description: String { "timer#" + String(slot) + "." + String(generation) }
}

/// Pending timers: an indexed binary min-heap keyed by (deadline, insertion order) over a
/// slot table with a free list, so that scheduling, cancelling and firing never search,
/// and a repeating timer is re-armed in place without allocating.
///
/// Pure logic with no clock of its own; `Reactor` drives it.
struct TimerHeap {
    struct Slot {
        var period: Int64 = 0
        var handler: (() -> Void)? = nil
        var generation: UInt32 = 0
        var heapIndex: Int32 = -1
        var nextFree: Int32 = -1
    }

    /// A heap entry carries its own key, so sifting compares without touching the slots.
    struct Entry {
        var deadline: Int64
        var sequence: UInt64
        var slot: Int32
    }

    private var slots: [Slot] = []
    private var heap: [Entry] = []
    private var freeHead: Int32 = -1
    private var nextSequence: UInt64 = 0

    init(capacity: Int = 64) {
        slots.reserveCapacity(capacity)
        heap.reserveCapacity(capacity)
    }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }

    /// The earliest deadline, if any timer is pending.
    var nextDeadline: Int64? { heap.first?.deadline }

    /// The insertion counter; timers inserted from now on carry a sequence >= this value.
    var sequenceMark: UInt64 { nextSequence }

    mutating func insert(deadline: Int64, period: Int64, handler: @escaping () -> Void) -> TimerID {
        let index: Int32
        if freeHead >= 0 {
            index = freeHead
            freeHead = slots[Int(index)].nextFree
        } else {
            index = Int32(slots.count)
            slots.append(Slot())
        }
        slots[Int(index)].period = period
        slots[Int(index)].handler = handler
        slots[Int(index)].nextFree = -1
        heap.append(Entry(deadline: deadline, sequence: nextSequence, slot: index))
        nextSequence &+= 1
        slots[Int(index)].heapIndex = Int32(heap.count - 1)
        siftUp(heap.count - 1)
        return TimerID(slot: index, generation: slots[Int(index)].generation)
    }

    func isPending(_ id: TimerID) -> Bool {
        let i = Int(id.slot)
        return i >= 0 && i < slots.count && slots[i].generation == id.generation && slots[i].heapIndex >= 0
    }

    /// The deadline of a pending timer.
    func deadline(of id: TimerID) -> Int64? {
        guard isPending(id) else { return nil }
        return heap[Int(slots[Int(id.slot)].heapIndex)].deadline
    }

    /// Removes a pending timer. Returns false if it was not pending (fired or cancelled).
    @discardableResult
    mutating func cancel(_ id: TimerID) -> Bool {
        guard isPending(id) else { return false }
        remove(at: Int(slots[Int(id.slot)].heapIndex))
        release(id.slot)
        return true
    }

    /// Takes the earliest timer if it is due at `now` and was inserted before `sequenceLimit`
    /// (timers added during the current pass wait for the next one). A repeating timer is
    /// re-armed at its next period boundary after `now`; a one-shot timer's slot is freed.
    /// Returns the handler to call.
    mutating func popDue(now: Int64, sequenceLimit: UInt64) -> (() -> Void)? {
        guard let top = heap.first, top.deadline <= now, top.sequence < sequenceLimit else { return nil }
        let slot = Int(top.slot)
        let handler = slots[slot].handler
        let period = slots[slot].period
        if period > 0 {
            var next = top.deadline + period
            if next <= now {
                // The loop fell behind by whole periods: skip them instead of firing in a burst.
                next += ((now - next) / period + 1) * period
            }
            heap[0].deadline = next
            heap[0].sequence = nextSequence
            nextSequence &+= 1
            siftDown(0)
        } else {
            remove(at: 0)
            release(top.slot)
        }
        return handler
    }

    /// Drops every timer.
    mutating func removeAll() {
        for entry in heap { release(entry.slot) }
        heap.removeAll(keepingCapacity: true)
    }

    // MARK: heap internals

    private mutating func release(_ index: Int32) {
        let i = Int(index)
        slots[i].handler = nil
        slots[i].heapIndex = -1
        slots[i].generation &+= 1
        slots[i].nextFree = freeHead
        freeHead = index
    }

    @inline(__always)
    private func less(_ x: Entry, _ y: Entry) -> Bool {
        x.deadline < y.deadline || (x.deadline == y.deadline && x.sequence < y.sequence)
    }

    private mutating func remove(at position: Int) {
        let last = heap.count - 1
        slots[Int(heap[position].slot)].heapIndex = -1
        if position != last {
            heap[position] = heap[last]
            slots[Int(heap[position].slot)].heapIndex = Int32(position)
            heap.removeLast()
            siftDown(position)
            siftUp(position)
        } else {
            heap.removeLast()
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let moving = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(moving, heap[parent]) else { break }
            heap[child] = heap[parent]
            slots[Int(heap[child].slot)].heapIndex = Int32(child)
            child = parent
        }
        heap[child] = moving
        slots[Int(moving.slot)].heapIndex = Int32(child)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let n = heap.count
        guard parent < n else { return }
        let moving = heap[parent]
        while true {
            let left = 2 * parent + 1
            if left >= n { break }
            var smallest = left
            let right = left + 1
            if right < n && less(heap[right], heap[left]) { smallest = right }
            guard less(heap[smallest], moving) else { break }
            heap[parent] = heap[smallest]
            slots[Int(heap[parent].slot)].heapIndex = Int32(parent)
            parent = smallest
        }
        heap[parent] = moving
        slots[Int(moving.slot)].heapIndex = Int32(parent)
    }
}
