import Foundation
import Net
import SIP
import TestSupport
import Testing

@testable import Phone

/// The assembled phone through network changes (issue 16 item 4) on the virtual clock: recorded
/// netlink datagrams (`NetlinkBytes`) fed to the phone's network monitor, the far end as
/// registrar and callee on loopback.
@Suite("Whole phone: network changes on the virtual clock", .serialized)
struct WholePhoneNetworkTests {
    typealias B = NetlinkBytes

    static func contact(_ message: SIPMessage?) -> String { message?.header("Contact") ?? "" }

    static func body(_ message: SIPMessage?) -> String {
        String(decoding: message?.body ?? [], as: UTF8.self)
    }

    @Test("address change while registered and in a call: REGISTER with the new Contact, re-INVITE with the new c=")
    func addressChange() throws {
        let phone = try WholePhone(
            config: """
                account.1.enable = 1
                sip.advertised_address = 10.0.0.2
                account.1.sip_server.1.address = 127.0.0.1
                account.1.sip_server.1.port = FAREND_PORT
                """, registrar: true)
        defer { phone.close() }
        phone.farEnd.keepsInvites = true
        let monitor = try #require(phone.assembly.softphone.watchNetwork())
        for d in B.startupDumps(eth0: [[10, 0, 0, 2]]) { monitor.receive(d) }
        try phone.run(seconds: 1)
        #expect(phone.log.contains("NET watching the network; SIP address 10.0.0.2"))
        #expect(phone.farEnd.registers.count == 1)
        #expect(Self.contact(phone.farEnd.registers.last).contains("@10.0.0.2:"))
        #expect(phone.log.contains { $0.hasPrefix("registration: registered") })
        try WholePhoneTests.talking(phone)
        #expect(Self.body(phone.farEnd.invites.last).contains("c=IN IP4 10.0.0.2"))
        let invitesBefore = phone.farEnd.invites.count

        // eth0 loses 10.0.0.2 and gains 10.0.0.3 (the kernel's order), 0.3 s apart.
        monitor.receive(B.address(B.deleteAddress, [10, 0, 0, 2], index: 2, label: "eth0"))
        try phone.run(seconds: 0.3)
        monitor.receive(B.address([10, 0, 0, 3], index: 2, label: "eth0"))
        try phone.run(seconds: 0.9)
        #expect(phone.farEnd.registers.count == 1, "debounced: nothing before 1 s of quiet")
        try phone.run(seconds: 0.5)
        #expect(phone.log.contains("NET address 10.0.0.2 -> 10.0.0.3"))
        #expect(phone.log.contains("registration: registering"))
        let register = try #require(phone.farEnd.registers.last)
        #expect(phone.farEnd.registers.count == 2)
        #expect(Self.contact(register).contains("@10.0.0.3:"))
        #expect(register.via.first?.host.description == "10.0.0.3")
        let reinvite = try #require(phone.farEnd.invites.last)
        #expect(phone.farEnd.invites.count == invitesBefore + 1)
        #expect(Self.body(reinvite).contains("c=IN IP4 10.0.0.3"))
        #expect(Self.body(reinvite).contains("a=sendrecv"))
        #expect(Self.contact(reinvite).contains("@10.0.0.3:"))
        #expect(phone.lcd.title == "Talking")
        #expect(phone.farEnd.calls.first?.state == .connected)
        #expect(phone.log.last { $0.hasPrefix("registration: ") }?.hasPrefix("registration: registered") == true)

        // eth0 goes down: lost, not registered, and nothing is sent meanwhile (no busy loop).
        monitor.receive(B.link(index: 2, flags: 0x1, name: "eth0"))
        try phone.run(seconds: 1.5)
        #expect(phone.log.contains("NET lost 10.0.0.3: no usable address"))
        #expect(phone.log.last { $0.hasPrefix("registration: ") } == "registration: failed: no network")
        let registersWhileLost = phone.farEnd.registers.count
        try phone.run(seconds: 120)
        #expect(phone.farEnd.registers.count == registersWhileLost)

        // Back up: registered again on 10.0.0.3, the call moved there once more.
        monitor.receive(B.link(index: 2, flags: 0x41, name: "eth0"))
        try phone.run(seconds: 1.5)
        #expect(phone.log.contains("NET address none -> 10.0.0.3"))
        #expect(phone.farEnd.registers.count == registersWhileLost + 1)
        #expect(phone.log.last { $0.hasPrefix("registration: ") }?.hasPrefix("registration: registered") == true)

        // Idle, the screen says what the account is doing: not registered while the link is
        // down, registering once it is back, nothing more when registered.
        phone.farEnd.hangUp()
        try phone.run(seconds: 0.5)
        #expect(phone.lcd.title == "Ready" && !phone.lcd.lines.contains { $0.contains("egister") })
        monitor.receive(B.link(index: 2, flags: 0x1, name: "eth0"))
        try phone.run(seconds: 1.5)
        #expect(phone.lcd.lines.contains("Not registered"), "\(phone.lcd.lines)")
        phone.farEnd.ignoresRegister = true
        monitor.receive(B.link(index: 2, flags: 0x41, name: "eth0"))
        try phone.run(seconds: 1.5)
        #expect(phone.lcd.lines.contains("Registering..."), "\(phone.lcd.lines)")
        phone.farEnd.ignoresRegister = false
        try phone.run(seconds: 40)
        #expect(!phone.lcd.lines.contains { $0.contains("egister") }, "\(phone.lcd.lines)")
        #expect(phone.lcd.title == "Ready")
    }

    @Test("sip.network_watch = 0: no watch; a bound listen address: not followed (logged)")
    func switchedOff() throws {
        let phone = try WholePhone(config: "sip.network_watch = 0")
        defer { phone.close() }
        #expect(phone.assembly.softphone.networkMonitor == nil)
        #expect(!phone.log.contains { $0.hasPrefix("NET ") })
        let bound = try WholePhone()
        defer { bound.close() }
        #expect(bound.assembly.softphone.networkMonitor == nil)
        #expect(bound.log.contains("NET sip.listen_address is 127.0.0.1: not following address changes"))
    }
}
