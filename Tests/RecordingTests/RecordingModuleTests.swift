import Testing

@testable import Recording

@Suite("Recording module")
struct RecordingModuleTests {
    @Test("the User-Agent product is deskphone")
    func product() {
        #expect(Recording.userAgentProduct == "deskphone")
    }
}
