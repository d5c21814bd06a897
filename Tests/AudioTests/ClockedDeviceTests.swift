import Foundation
import Reactor
import Testing

@testable import Audio

/// A PCM with a clock of its own: the kernel's `snd-dummy` card (`modprobe snd-dummy`), which
/// machines without sound hardware can load. Skipped where it is absent (as on the machine
/// this was written on); everything else in AudioTests runs on ALSA's clockless plugins.
private let dummyCard = FileManager.default.fileExists(atPath: "/proc/asound/Dummy")

@Suite("PCM streams on a clocked device (snd-dummy)", .serialized, .enabled(if: dummyCard, "no snd-dummy card"))
struct ClockedDeviceTests {
    @Test("poll descriptors clock capture and playback; delay stays within the buffer")
    func deviceClock() throws {
        let reactor = try Reactor()
        defer { reactor.close() }
        var pulled = 0
        var captured = 0
        let configuration = PCMConfiguration(sampleRate: 8000)
        let playback = try PCMStream(
            playingTo: PCMDeviceName("plughw:Dummy"), on: reactor, configuration: configuration
        ) {
            frame in
            pulled += 1
            for i in 0..<frame.count { frame[i] = 0 }
        }
        let capture = try PCMStream(capturing: PCMDeviceName("plughw:Dummy"), on: reactor, configuration: configuration)
        {
            _ in captured += 1
        }
        try playback.start()
        try capture.start()
        #expect(playback.clock == .device && capture.clock == .device)
        #expect(reactor.watchCount >= 2)
        var maxDelay = 0
        let sampler = reactor.every(5_000_000) { maxDelay = max(maxDelay, playback.delayFrames) }
        try reactor.run(for: 1_000_000_000)
        reactor.cancel(sampler)
        // About 100 periods each way in one second (the dummy card's timer is coarse).
        #expect(pulled > 70 && pulled < 130, "\(pulled) periods pulled")
        #expect(captured > 70 && captured < 130, "\(captured) periods captured")
        #expect(maxDelay <= playback.bufferFrames)
        playback.close()
        capture.close()
        #expect(reactor.watchCount == 0)
    }
}
