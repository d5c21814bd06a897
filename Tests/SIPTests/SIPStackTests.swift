import Testing

@testable import SIP

@Suite("SIP module")
struct SIPStackTests {
    @Test("the product name used in User-Agent")
    func product() {
        #expect(SIPStack.userAgentProduct == "deskphone")
    }
}

@Suite("SIP transport types")
struct SIPTransportTypesTests {
    @Test("socket addresses print as a Via sent-by would")
    func text() {
        #expect(SIPSocketAddress(ipv4: 192, 0, 2, 1, port: 5060).description == "192.0.2.1:5060")
        let v6 = SIPSocketAddress(bytes: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1], port: 5060)
        #expect(v6?.description == "[2001:db8::1]:5060")
        let loop = SIPSocketAddress(bytes: [UInt8](repeating: 0, count: 15) + [1], port: 5062)
        #expect(loop?.hostText == "[::1]")
        #expect(SIPSocketAddress(bytes: [1, 2, 3], port: 1) == nil)
        #expect(SIPTransportProtocol.tcp.isReliable && !SIPTransportProtocol.udp.isReliable)
    }
}
