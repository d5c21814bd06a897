// The shared test support (Tests/Support/TestSupport), for every file of this target.
@_exported import TestSupport
import CLinux
import CMallocCounter
import Foundation
import Reactor
import Testing

@testable import Media
@testable import SIP
@testable import Voice

/// A plain UDP socket on 127.0.0.1 standing in for a far end (sniffing what a session sends,
/// sending it garbage).
final class UDPPeer {
    let fd: Int32
    let port: UInt16

    init() throws {
        (fd, port) = try #require(loopbackSocket())
        _ = cl_set_nonblocking(fd, 1)
    }

    deinit { _ = cl_close(fd) }

    var endpoint: RTPEndpoint { RTPEndpoint(ipv4: 127, 0, 0, 1, port: port) }

    /// Every datagram queued now.
    func receiveAll() -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = receiveDatagram(fd, into: &buffer)
            if n < 0 {
                if Int32(-n) == EAGAIN || Int32(-n) == EWOULDBLOCK { break }
                continue
            }
            out.append(Array(buffer[0..<Int(n)]))
        }
        return out
    }

    func send(_ bytes: [UInt8], to endpoint: RTPEndpoint) {
        let address: [UInt8] = [127, 0, 0, 1]
        _ = bytes.withUnsafeBytes { b in
            address.withUnsafeBufferPointer { a in
                cl_socket_send_to(fd, b.baseAddress, b.count, 4, a.baseAddress, endpoint.port)
            }
        }
    }
}

/// Offer/answer between two local SDP configurations, as the UA will run it.
enum Negotiation {
    static func configuration(
        port: UInt16, codecs: [CodecDescriptor], ptime: Int = 20, direction: SDPDirection = .sendrecv
    ) -> SDPAudioConfiguration {
        SDPAudioConfiguration(
            address: "127.0.0.1", rtpPort: Int(port), sessionID: "1", codecs: codecs, ptime: ptime,
            direction: direction)
    }

    /// (offerer's view, answerer's view).
    static func pair(
        offerer: SDPAudioConfiguration, answerer: SDPAudioConfiguration
    ) throws -> (SDPNegotiatedAudio, SDPNegotiatedAudio) {
        let offer = SDPOfferAnswer.offer(offerer)
        let answer = SDPOfferAnswer.answer(to: offer, answerer)
        let a = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: true)
        let b = try SDPOfferAnswer.negotiate(offer: offer, answer: answer, localIsOfferer: false)
        return (a, b)
    }
}

/// Two sessions on 127.0.0.1 on one virtual-clock reactor: A's "capture" is a sine fed every
/// 10 ms, B's playout is pulled every 10 ms into `played`.
final class CallPair {
    let reactor: Reactor
    let a: RTPSession
    let b: RTPSession
    var played: [Int16] = []
    var playedB: [Int16] = []
    var fedSamples = 0
    var feeding = true
    var frequency = 1000.0
    var amplitude = 8000.0
    var feedTimer: TimerID? = nil
    var digitsAtB: [TelephoneEventDigit] = []
    var digitsAtA: [TelephoneEventDigit] = []

    init(configure: (inout RTPSessionConfiguration) -> Void = { _ in }) throws {
        reactor = try Reactor(clock: .virtual(startNanoseconds: 1_000_000_000))
        var configuration = RTPSessionConfiguration(bindAddress: "127.0.0.1")
        configure(&configuration)
        a = try RTPSession(reactor: reactor, configuration: configuration)
        b = try RTPSession(reactor: reactor, configuration: configuration)
        b.onDigit = { [unowned self] digit in digitsAtB.append(digit) }
        a.onDigit = { [unowned self] digit in digitsAtA.append(digit) }
    }

    func close() {
        if let feedTimer { reactor.cancel(feedTimer) }
        a.close()
        b.close()
        reactor.close()
    }

    /// Negotiates `codecs` (A offers) and starts both sessions.
    @discardableResult
    func start(
        codecs: [CodecDescriptor], ptime: Int = 20, directionA: SDPDirection = .sendrecv,
        directionB: SDPDirection = .sendrecv
    ) throws -> (SDPNegotiatedAudio, SDPNegotiatedAudio) {
        let (na, nb) = try Negotiation.pair(
            offerer: Negotiation.configuration(
                port: a.localAddress.port, codecs: codecs, ptime: ptime, direction: directionA),
            answerer: Negotiation.configuration(
                port: b.localAddress.port, codecs: codecs, ptime: ptime, direction: directionB))
        try a.update(na)
        try b.update(nb)
        return (na, nb)
    }

    /// Starts the 10 ms capture/playout clock.
    func startClock() {
        feedTimer = reactor.every(10_000_000) { [unowned self] in
            let rateA = a.audioSampleRate
            let period = rateA / 100
            if feeding {
                var frame = [Int16](repeating: 0, count: period)
                for i in 0..<period {
                    let t = Double(fedSamples + i) / Double(rateA)
                    frame[i] = Int16((amplitude * sin(2 * Double.pi * frequency * t)).rounded())
                }
                fedSamples += period
                frame.withUnsafeBufferPointer { a.sendAudio($0) }
            }
            var out = [Int16](repeating: 0, count: b.audioSampleRate / 100)
            out.withUnsafeMutableBufferPointer { b.pullPlayout(into: $0) }
            played.append(contentsOf: out)
            // B sends silence back so both directions run; A plays out what B sends.
            let silence = [Int16](repeating: 0, count: b.audioSampleRate / 100)
            silence.withUnsafeBufferPointer { b.sendAudio($0) }
            var outA = [Int16](repeating: 0, count: a.audioSampleRate / 100)
            outA.withUnsafeMutableBufferPointer { a.pullPlayout(into: $0) }
            playedB.append(contentsOf: outA)
        }
    }

    func run(seconds: Double) throws {
        try reactor.run(for: Int64(seconds * 1e9))
    }

    /// Checks that the last `seconds` B played hold the tone at about its level.
    func expectTone(
        lastSeconds seconds: Double = 0.5, levelTolerance: Double = 0.1,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let rate = b.audioSampleRate
        let count = Int(seconds * Double(rate))
        guard played.count > count else {
            Issue.record("only \(played.count) samples played", sourceLocation: sourceLocation)
            return
        }
        let tail = played[(played.count - count)...]
        let tone = Signal.goertzel(tail, frequency: frequency, sampleRate: rate)
        let other = Signal.goertzel(tail, frequency: frequency * 1.37, sampleRate: rate)
        #expect(tone > 100 * other, "tone \(tone) vs other \(other)", sourceLocation: sourceLocation)
        let expected = amplitude / 2.0.squareRoot()
        let level = Signal.rms(tail)
        #expect(
            abs(level - expected) < expected * levelTolerance, "rms \(level), expected \(expected)",
            sourceLocation: sourceLocation)
    }
}

#if DEBUG
    let mediaOptimized = false
#else
    let mediaOptimized = true
#endif
