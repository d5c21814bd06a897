import Testing

@testable import Audio

@Suite("Audio module")
struct AudioLibraryTests {
    @Test("reports the ALSA library version it links")
    func version() {
        let version = AudioLibrary.alsaVersion
        #expect(version.split(separator: ".").count >= 2)
    }
}
