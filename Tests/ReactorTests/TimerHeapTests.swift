import Testing

@testable import Reactor

@Suite("TimerHeap")
struct TimerHeapTests {
    /// A tiny deterministic generator so the random schedule is the same every run.
    struct LCG {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
    }

    @Test("pops in deadline order, ties in insertion order")
    func order() {
        var heap = TimerHeap()
        var fired: [Int] = []
        let plan: [(Int, Int64)] = [(0, 30), (1, 10), (2, 20), (3, 10), (4, 0), (5, 30)]
        for (tag, deadline) in plan {
            _ = heap.insert(deadline: deadline, period: 0) { fired.append(tag) }
        }
        let limit = heap.sequenceMark
        while let handler = heap.popDue(now: 100, sequenceLimit: limit) { handler() }
        #expect(fired == [4, 1, 3, 2, 0, 5])
        #expect(heap.isEmpty)
    }

    @Test("does not pop timers that are not yet due")
    func notDue() {
        var heap = TimerHeap()
        var fired = 0
        _ = heap.insert(deadline: 50, period: 0) { fired += 1 }
        #expect(heap.popDue(now: 49, sequenceLimit: heap.sequenceMark) == nil)
        #expect(heap.nextDeadline == 50)
        heap.popDue(now: 50, sequenceLimit: heap.sequenceMark)?()
        #expect(fired == 1)
    }

    @Test("100,000 random timers with random cancellations fire exactly in order")
    func randomSchedule() {
        var heap = TimerHeap(capacity: 100_000)
        var rng = LCG(state: 42)
        var ids: [TimerID] = []
        var expected: [(deadline: Int64, seq: Int)] = []
        var cancelled = Set<Int>()
        var fired: [Int] = []
        for i in 0..<100_000 {
            let deadline = Int64(rng.next() % 1_000_000)
            ids.append(heap.insert(deadline: deadline, period: 0) { fired.append(i) })
            expected.append((deadline, i))
        }
        for _ in 0..<20_000 {
            let victim = Int(rng.next() % 100_000)
            let removed = heap.cancel(ids[victim])
            if removed { cancelled.insert(victim) }
        }
        #expect(heap.count == 100_000 - cancelled.count)
        let limit = heap.sequenceMark
        while let handler = heap.popDue(now: Int64.max, sequenceLimit: limit) { handler() }
        let want = expected.filter { !cancelled.contains($0.seq) }
            .sorted { $0.deadline < $1.deadline || ($0.deadline == $1.deadline && $0.seq < $1.seq) }
            .map { $0.seq }
        #expect(fired == want)
        #expect(heap.isEmpty)
    }

    @Test("stale ids are harmless and slots are reused with a new generation")
    func staleIDs() {
        var heap = TimerHeap()
        let a = heap.insert(deadline: 1, period: 0) {}
        let first = heap.cancel(a)
        let second = heap.cancel(a)
        #expect(first)
        #expect(!second)
        let b = heap.insert(deadline: 2, period: 0) {}
        #expect(b.slot == a.slot)
        #expect(b.generation != a.generation)
        let stale = heap.cancel(a)
        #expect(!stale)
        #expect(heap.isPending(b))
    }

    @Test("a repeating timer re-arms without drift and skips whole missed periods")
    func repeating() {
        var heap = TimerHeap()
        var ticks = 0
        let id = heap.insert(deadline: 10, period: 10) { ticks += 1 }
        heap.popDue(now: 10, sequenceLimit: heap.sequenceMark)?()
        #expect(heap.deadline(of: id) == 20)
        // The loop stalls until t=57: one late tick, then the grid resumes at 60.
        heap.popDue(now: 57, sequenceLimit: heap.sequenceMark)?()
        #expect(heap.deadline(of: id) == 60)
        #expect(heap.popDue(now: 57, sequenceLimit: heap.sequenceMark) == nil)
        #expect(ticks == 2)
    }
}
