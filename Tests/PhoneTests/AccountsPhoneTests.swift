import Config
import Indicators
import Keys
import SIP
import Testing

@testable import Phone

/// Several accounts on the phone's side (issue 16 item 2): the provisioning keys, the Line key
/// that chooses the account of the next call, the LCD naming the line that rings, and the
/// Line keys' LEDs showing each account's registration. Pure: no sockets.
@Suite("Accounts: provisioning, Line keys, LCD and LEDs")
struct AccountsPhoneTests {
    static let uri2001 = "sip:2001@127.0.0.1:5062"

    static func file(_ text: String) throws -> ConfigFile {
        try ConfigFile(text: "#!version:1.0.0.1\n" + text, path: "accounts.cfg")
    }

    static let twoAccounts = """
        account.1.enable = 1
        account.1.user_name = 1001
        account.1.sip_server.1.address = 192.0.2.1
        account.2.enable = 1
        account.2.user_name = 1002
        account.2.auth_name = a1002
        account.2.label = Sales
        account.2.sip_server.1.address = 192.0.2.2
        account.2.sip_server.1.port = 5070
        account.2.sip_server.1.expires = 120
        account.3.enable = 0
        account.3.user_name = 1003
        account.3.sip_server.1.address = 192.0.2.3

        """

    @Test("account.N.* up to the line count: enabled accounts are read, disabled ones skipped")
    func provisioning() throws {
        let settings = try SoftphoneConfiguration(try Self.file(Self.twoAccounts), lineKeys: 4)
        #expect(settings.account.userName == "1001")
        #expect(settings.account.number == 1)
        #expect(settings.moreAccounts.count == 1)
        let two = try #require(settings.moreAccounts.first)
        #expect(two.number == 2)
        #expect(two.userName == "1002")
        #expect(two.authName == "a1002")
        #expect(two.serverAddress == "192.0.2.2")
        #expect(two.serverPort == 5070)
        #expect(two.expires == 120)
        #expect(two.screenLabel == "Sales")
        #expect(settings.account.screenLabel == "1001")
        #expect(settings.accounts.map { $0.number } == [1, 2])
        #expect(settings.accountWarnings.isEmpty)
    }

    @Test("accounts above the board's line count are ignored with a warning naming the key")
    func beyondLineCount() throws {
        let settings = try SoftphoneConfiguration(try Self.file(Self.twoAccounts), lineKeys: 1)
        #expect(settings.moreAccounts.isEmpty)
        #expect(settings.accountWarnings.count == 2)
        #expect(
            settings.accountWarnings.first
                == "accounts.cfg:5: account.2.* ignored: the board has 1 line (board.linekeys; one account per line, at most 16)")
        // A board without line keys has one account; without a board, up to 16.
        #expect(SoftphoneConfiguration.accountCount(lineKeys: 0) == 1)
        #expect(SoftphoneConfiguration.accountCount(lineKeys: nil) == 16)
        #expect(SoftphoneConfiguration.accountCount(lineKeys: 64) == 16)
        let any = try SoftphoneConfiguration(try Self.file(Self.twoAccounts + "account.17.user_name = x\n"))
        #expect(any.moreAccounts.map { $0.number } == [2])
        #expect(any.accountWarnings.count == 1)
        #expect(any.accountWarnings.first?.contains("account.17.* ignored") == true)
    }

    /// The logic with two accounts (line keys 1 and 2) and a one-entry dial plan.
    static func logic() -> PhoneLogic {
        var settings = PhoneSettings()
        settings.dialPlan = [PhoneSettings.DialPlanEntry(number: "2001", uri: Self.uri2001)]
        let logic = PhoneLogic(settings: settings, accountLabel: "1001")
        logic.accounts = [PhoneAccountView(number: 1, label: "1001"), PhoneAccountView(number: 2, label: "Sales")]
        return logic
    }

    static func run(_ logic: PhoneLogic, _ input: PhoneInput) -> [PhoneAction] {
        var actions: [PhoneAction] = []
        logic.handle(input, into: &actions)
        return actions
    }

    static func press(_ logic: PhoneLogic, _ key: PhoneKey) -> [PhoneAction] {
        run(logic, .key(KeyEvent(key: key, kind: .press, time: 0)))
    }

    @Test("Line key 2 before dialling: the call goes out on account 2; the next one on account 1")
    func lineKeyChoosesAccount() {
        let logic = Self.logic()
        _ = Self.press(logic, .line(2))
        #expect(logic.screen == .dialing)
        #expect(logic.dialAccount == 2)
        #expect(logic.shown.account == "Sales")
        for digit in [2, 0, 0, 1] { _ = Self.press(logic, .digit(digit)) }
        let actions = Self.press(logic, .pound)
        #expect(actions.contains(.dial(number: "2001", target: Self.uri2001, account: 2)))
        _ = Self.run(logic, .callState(call: 1, state: .calling, party: "2001", account: 2))
        _ = Self.run(logic, .placed(call: 1))
        #expect(logic.shown.account == "Sales")
        _ = Self.run(logic, .callState(call: 1, state: .ended(.localHangUp), party: "2001", account: 2))
        #expect(logic.screen == .idle)
        // Off hook, no Line key: the default account.
        _ = Self.press(logic, .speaker)
        #expect(logic.dialAccount == 1)
        #expect(logic.shown.account == "1001")
        for digit in [2, 0, 0, 1] { _ = Self.press(logic, .digit(digit)) }
        #expect(Self.press(logic, .pound).contains(.dial(number: "2001", target: Self.uri2001, account: 1)))
        // On the dialling screen, a Line key switches the account; line key 3 (no account) does not.
        _ = Self.run(logic, .callState(call: 2, state: .calling, party: "2001"))
        _ = Self.run(logic, .placed(call: 2))
        _ = Self.run(logic, .callState(call: 2, state: .ended(.localHangUp), party: "2001"))
        #expect(logic.screen == .idle)
        _ = Self.press(logic, .speaker)
        _ = Self.press(logic, .line(2))
        #expect(logic.dialAccount == 2)
        _ = Self.press(logic, .line(3))
        #expect(logic.dialAccount == 2)
    }

    @Test("an incoming call on account 2: the LCD's account field names line 2; the LEDs show registrations")
    func incomingAndLEDs() {
        let logic = Self.logic()
        logic.noteRegistration(account: 1, .registering)
        logic.noteRegistration(account: 2, .registered)
        logic.refresh()
        #expect(logic.shown.lineKeys == [.registering, .registered])
        #expect(LineKeyState.registered.ledState == .on)
        #expect(LineKeyState.registering.ledState.mode == .slowFlash)
        _ = Self.run(logic, .callState(call: 5, state: .incoming, party: "Alice", account: 2))
        #expect(logic.screen == .incoming)
        #expect(logic.shown.account == "Sales")
        #expect(logic.shown.lines.first == "Alice")
        // Line key 1 shows the call (call appearance), line key 2 its account.
        #expect(logic.shown.lineKeys == [.incoming, .registered])
        _ = Self.run(logic, .callState(call: 5, state: .ended(.remoteCancelled), party: "Alice", account: 2))
        _ = Self.run(logic, .callState(call: 6, state: .incoming, party: "Bob", account: 1))
        #expect(logic.shown.account == "1001")
    }

    @Test("one account: the screen and line keys are as before (no registration LEDs)")
    func singleAccountUnchanged() {
        var settings = PhoneSettings()
        settings.dialPlan = []
        let logic = PhoneLogic(settings: settings, accountLabel: "1001")
        logic.noteRegistration(account: 1, .registered)
        logic.refresh()
        #expect(logic.shown.lineKeys == [.idle])
        _ = Self.press(logic, .line(2))
        #expect(logic.dialAccount == 1)
    }
}
