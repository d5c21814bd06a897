import Testing

@testable import Media

@Suite("Media module")
struct MediaLayerTests {
    @Test("the module's log name")
    func name() {
        #expect(MediaLayer.name == "media")
    }
}
