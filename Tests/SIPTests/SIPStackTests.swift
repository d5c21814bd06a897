import Testing

@testable import SIP

@Suite("SIP module")
struct SIPStackTests {
    @Test("the product name used in User-Agent")
    func product() {
        #expect(SIPStack.userAgentProduct == "deskphone")
    }
}
