// swift-tools-version:6.1
// deskphone: a SIP desk-phone firmware core. Firmware modules (CLinux, the C system
// libraries, Reactor, ... and the `deskphone` executable) build here for the host and, through
// toolchain/build-firmware.py, as Embedded Swift for x86_64, aarch64 and armv7 Linux.
// Host-only targets (deskphone-tool, test support) may use packages; firmware modules may not.
import PackageDescription

let package = Package(
    name: "deskphone",
    products: [
        .executable(name: "deskphone", targets: ["deskphone"]),
        .executable(name: "deskphone-tool", targets: ["deskphone-tool"]),
        .executable(name: "deskphone-codec-bench", targets: ["deskphone-codec-bench"]),
        .executable(name: "deskphone-sip-bench", targets: ["deskphone-sip-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // MARK: C shims and system libraries (firmware)
        .target(name: "CLinux"),
        .systemLibrary(name: "CAlsa", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CEvdev", pkgConfig: "libevdev", providers: [.apt(["libevdev-dev"])]),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),
        .systemLibrary(name: "CMbedTLS", providers: [.apt(["libmbedtls-dev"])]),  // no .pc: the module map links
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),

        // MARK: firmware modules
        .target(name: "Reactor", dependencies: ["CLinux"]),
        .target(name: "Voice", dependencies: ["COpus"], linkerSettings: [.linkedLibrary("m")]),
        .target(name: "Config", dependencies: ["CLinux"]),
        .target(name: "Net", dependencies: ["Reactor", "Config", "CLinux"]),
        .target(name: "TLS", dependencies: ["Net", "CMbedTLS"]),
        .target(name: "Digest", dependencies: ["CLinux"]),
        .target(name: "HTTP", dependencies: ["Net", "Reactor", "TLS", "Digest", "CLinux"]),
        .target(name: "Keys", dependencies: ["Reactor", "Config", "CLinux", "CEvdev"]),
        .target(name: "Indicators", dependencies: ["Reactor", "Config", "CLinux"]),
        .target(name: "SIP", dependencies: ["Reactor", "Net", "Voice", "Config", "Digest", "CLinux"]),
        .target(name: "Audio", dependencies: ["Reactor", "CAlsa", "CLinux"]),
        .target(name: "Media", dependencies: ["Reactor", "Net", "Voice", "Audio", "SIP", "CLinux", "CSRTP"]),
        .target(
            name: "Recording", dependencies: ["Reactor", "Config", "SIP", "HTTP", "Indicators", "Keys", "CLinux"]),
        .target(
            name: "Phone",
            dependencies: [
                "Reactor", "Config", "Keys", "Indicators", "Voice", "Net", "HTTP", "SIP", "TLS", "Audio", "Media",
                "Recording", "CLinux",
            ]),
        .executableTarget(
            name: "deskphone",
            dependencies: [
                "Phone", "Net", "HTTP", "SIP", "Digest", "Audio", "Media", "Recording", "Config", "Reactor", "Voice",
                "CLinux", "CAlsa", "CEvdev", "COpus", "TLS",
            ]
        ),

        // Firmware-style benchmark: built for the host and as Embedded Swift, so the two compare.
        .executableTarget(name: "deskphone-codec-bench", dependencies: ["Voice", "CLinux"]),
        .executableTarget(name: "deskphone-sip-bench", dependencies: ["SIP", "Config", "CLinux"]),

        // MARK: host-only
        .target(name: "COsipReference", linkerSettings: [.linkedLibrary("osipparser2")]),
        .systemLibrary(name: "CSpanDSP", pkgConfig: "spandsp", providers: [.apt(["libspandsp-dev"])]),
        .executableTarget(
            name: "deskphone-tool",
            dependencies: [
                "Phone", "Keys", "Indicators", "SIP", "Config", "Reactor", "Voice", "CLinux", "COpus", "CSpanDSP", "COsipReference",
                "Media", "CSRTP", "CMallocCounter", "TLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets (scripts/fuzz.sh builds them with -sanitize=fuzzer; plain builds replay files).
        .executableTarget(
            name: "deskphone-fuzz",
            dependencies: ["SIP", "Voice", "Config", "Keys", "Reactor", "Net", "HTTP", "Recording", "TLS"],
            path: "Tools/deskphone-fuzz"),
        .target(name: "CMallocCounter", path: "Tests/Support/CMallocCounter"),
        // What several test targets share: signal analysis, pipes, the SIPp process wrapper.
        .target(name: "TestSupport", dependencies: ["Reactor", "CLinux"], path: "Tests/Support/TestSupport"),
        .testTarget(name: "ReactorTests", dependencies: ["TestSupport", "Reactor", "CLinux", "CMallocCounter"]),
        .testTarget(name: "VoiceTests", dependencies: ["TestSupport", "Voice", "CMallocCounter"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config"]),
        .testTarget(name: "KeysTests", dependencies: ["TestSupport", "Keys", "Config", "Reactor", "CLinux", "CMallocCounter"]),
        .testTarget(name: "IndicatorsTests", dependencies: ["Indicators", "Config", "Reactor", "CLinux"]),
        .testTarget(name: "AudioTests", dependencies: ["TestSupport", "Audio", "Reactor", "Voice", "CLinux", "CMallocCounter"]),
        .testTarget(name: "NetTests", dependencies: ["TestSupport", "Net", "Reactor", "CLinux"]),
        .testTarget(name: "HTTPTests", dependencies: ["TestSupport", "HTTP", "TLS", "Net", "Reactor"]),
        .testTarget(name: "DigestTests", dependencies: ["Digest"]),
        .testTarget(name: "TLSTests", dependencies: ["TestSupport", "TLS", "Net"]),
        .testTarget(
            name: "MediaTests",
            dependencies: [
                "TestSupport", "Media", "Net", "Audio", "SIP", "Reactor", "Voice", "CLinux", "CMallocCounter", "CSRTP",
            ]),
        .testTarget(
            name: "SIPTests", dependencies: ["TestSupport", "SIP", "Digest", "Reactor", "Voice", "Net", "CLinux", "CMallocCounter"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "RecordingTests",
            dependencies: [
                "TestSupport", "Recording", "HTTP", "Net", "Phone", "SIP", "Indicators", "Keys", "Config", "Reactor",
                "Media", "Audio",
            ],
            exclude: ["Fixtures"]),
        .testTarget(
            name: "PhoneTests",
            dependencies: [
                "TestSupport", "Phone", "Keys", "Indicators", "Config", "Reactor", "SIP", "TLS", "Net", "Media", "Audio",
                "Recording", "CLinux", "CMallocCounter",
            ]),
    ],
    swiftLanguageModes: [.v6]
)
