import Reactor

/// Flashes LEDs in software on reactor timers, for backends whose device cannot (evdev LEDs,
/// the terminal, sysfs LEDs without the `timer` trigger). All LEDs share one phase clock
/// (reactor time), so every LED flashing at one rate is lit at the same moments; one 100 ms
/// timer runs only while some LED flashes. `output(id, lit)` is called on every visible change.
public final class LEDFlasher {
    private let reactor: Reactor
    private var output: ((LEDID, Bool) -> Void)?
    private var modes: [LEDID: LEDMode] = [:]
    private var lit: [LEDID: Bool] = [:]
    private var order: [LEDID] = []
    private var timer: TimerID? = nil

    public init(reactor: Reactor, output: @escaping (LEDID, Bool) -> Void) {
        self.reactor = reactor
        self.output = output
    }

    /// Sets the mode of LED `id` and shows its current phase at once.
    public func set(_ id: LEDID, _ mode: LEDMode) {
        if !order.contains(id) { order.append(id) }
        modes[id] = mode
        show(id, now: nowMilliseconds)
        updateTimer()
    }

    /// Whether LED `id` is lit now.
    public func isLit(_ id: LEDID) -> Bool { lit[id] ?? false }

    /// Whether the flash timer is running.
    public var isRunning: Bool { timer != nil }

    /// Cancels the timer and drops the output (breaks the cycle with the owner).
    public func close() {
        if let t = timer { reactor.cancel(t) }
        timer = nil
        output = nil
    }

    private var nowMilliseconds: Int64 { reactor.now / 1_000_000 }

    private func show(_ id: LEDID, now: Int64) {
        let mode = modes[id] ?? .off
        let on = mode.isLit(atMilliseconds: now)
        if lit[id] == on { return }
        lit[id] = on
        output?(id, on)
    }

    private func updateTimer() {
        var flashing = false
        for (_, m) in modes where m == .slowFlash || m == .fastFlash { flashing = true }
        if flashing && timer == nil && output != nil {
            let period: Int64 = 100_000_000
            let first = period - reactor.now % period
            timer = reactor.every(period, firstAfter: first) { [self] in tick() }
        } else if !flashing, let t = timer {
            reactor.cancel(t)
            timer = nil
        }
    }

    private func tick() {
        // Round to the nearest 100 ms step: a tick a little late still shows its own phase.
        let now = (reactor.now + 50_000_000) / 100_000_000 * 100
        for id in order { show(id, now: now) }
    }
}
