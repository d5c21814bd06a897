// libFuzzer entry for the SDP parser, serializer and answerer (issue 5 item 8).

import Voice

/// Feeds arbitrary bytes to the SDP parser; when they parse, checks that the canonical form
/// parses back to the same model, answers the description as an offer and checks that the
/// answer parses back too, then negotiates both views. Traps (`fatalError`) only on a broken
/// round trip: that is a real bug for the fuzzer to report. Every other outcome returns.
public func sdpFuzzEntry(_ bytes: UnsafeRawBufferPointer) {
    let session: SDPSession
    do throws(SDPError) {
        session = try SDPSession.parse(bytes)
    } catch {
        _ = error.description
        return
    }
    let canonical = session.serialized()
    do throws(SDPError) {
        let again = try SDPSession.parse(canonical)
        if again != session { fatalError("SDP round trip changed the description:\n" + session.description) }
    } catch {
        fatalError("SDP canonical form does not parse: " + error.description + "\n" + session.description)
    }
    var config = SDPAudioConfiguration(
        address: "192.0.2.10", rtpPort: 40000, sessionID: "1",
        codecs: [
            CodecRegistry.opus, CodecRegistry.g722, CodecRegistry.pcmu, CodecRegistry.pcma,
            CodecRegistry.l16At16000,
        ])
    for order in [SDPCodecOrder.offerer, .local] {
        config.answerCodecOrder = order
        let answer = SDPOfferAnswer.answer(to: session, config)
        do throws(SDPError) {
            let parsed = try SDPSession.parse(answer.serialized())
            if parsed != answer { fatalError("SDP answer round trip changed it:\n" + answer.description) }
        } catch {
            fatalError("SDP answer does not parse: " + error.description + "\n" + answer.description)
        }
        for localIsOfferer in [false, true] {
            do throws(SDPError) {
                let result = try SDPOfferAnswer.negotiate(
                    offer: session, answer: answer, localIsOfferer: localIsOfferer)
                _ = result.description
            } catch {
                _ = error.description
            }
        }
    }
    _ = SDPOfferAnswer.reoffer(session, direction: .sendonly).serialized()
}
