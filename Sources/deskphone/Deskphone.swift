// deskphone: the firmware executable. It identifies itself and its board, runs its self-test,
// and in call mode (`--config`, `--dial`, `--answer`, `--control`) runs a SIP account and its
// calls with audio (CallMode.swift); keys and screens arrive with the phone state machine.
import CAlsa
import CEvdev
import CLinux
import COpus
import Config
import Reactor

let firmwareVersion = "0.1.0"

func usage() {
    // One literal, one call: a print per line costs the firmware code for each.
    print(
        """
        usage: deskphone [--board FILE] [--version] [--self-test [--vectors DIR]]
               deskphone [--board FILE] --config FILE... [--dial URI] [--answer auto|no] [--answer-delay MS]
                         [--hangup-after SECONDS] [--exit-after-call] [--control FIFO|-]
                         [--audio-in FILE] [--audio-out FILE] [--listen PORT] [--keys SOURCE]
                         [--status-log PATH] [--log PATH] [--provision-dir DIR]
          --board FILE   board profile (default: board/sim.cfg)
          --config FILE...  provisioning files (later ones override earlier ones; SIGHUP reloads them)
          --dial URI     place a call (sip:1002@127.0.0.1:5062, or a number with a server)
          --answer auto  answer incoming calls (after --answer-delay MS); default: leave them ringing
          --hangup-after SECONDS   hang up each call this long after it connected
          --exit-after-call        exit when the first call has ended
          --control FIFO|-         line commands: dial URI, answer, reject [STATUS], hangup, hold, resume,
                                   dtmf DIGITS, mute, unmute, quit
          --audio-in FILE / --audio-out FILE   capture from / play into raw s16le mono files at the codec
                                   rate (ALSA file plugin) instead of the board's devices
          --listen PORT  SIP port (overrides sip.listen_port; 0 = any free port)
          --keys SOURCE  the keypad: stdin (the terminal, with the LCD drawn there), fifo:PATH or file:PATH
                         (raw input_event records), evdev:PATH, evdev-name:TEXT, evdev-caps:keyboard|keypad
          --status-log PATH        every LED, LCD and recording change as one JSON line
          --log PATH     the event log goes to PATH instead of stdout
          --provision-dir DIR      keep the last good set fetched from auto_provision.server.url here
                                   (overrides the board's board.provision_dir)
          --version      print version, board and linked libraries
          --self-test    exercise the reactor on the real clock and the codecs; exit 0 only if all held
          --vectors DIR  ITU-T G.191 vectors (Tests/Vectors/itu-t-g191) for the codec checks
        """)
}

func architecture() -> String {
    #if arch(x86_64)
        return "x86_64"
    #elseif arch(arm64)
        return "aarch64"
    #elseif arch(arm)
        return "armv7"
    #else
        return "unknown"
    #endif
}

func printIdentity(board: BoardSummary) {
    let opus = String(cString: opus_get_version_string())
    let alsa = String(cString: snd_asoundlib_version())
    let keyName = libevdev_event_code_get_name(UInt32(EV_KEY), UInt32(KEY_F1)).map { String(cString: $0) } ?? "?"
    print(
        "deskphone " + firmwareVersion + " (" + architecture() + ", input_event " + String(cl_input_event_size())
            + " bytes)")
    print("board: " + board.name + (board.model.isEmpty ? "" : " (" + board.model + ")"))
    print("libraries: alsa " + alsa + ", " + opus + ", libevdev (KEY_F1 = " + keyName + ")")
}

@main
struct Deskphone {
    static func main() {
        let arguments = Arguments.parse()
        let boardPath = arguments.boardPath
        let wantSelfTest = arguments.wantSelfTest

        if arguments.call.isCallMode && !arguments.wantVersion && !wantSelfTest {
            exit(runCallMode(boardPath: boardPath, options: arguments.call))
        }

        let board: BoardSummary
        do {
            board = try BoardSummary.load(path: boardPath)
        } catch {
            print("deskphone: " + error.description)
            exit(2)
        }

        printIdentity(board: board)
        if arguments.wantVersion { exit(0) }

        var selfTest = ReactorSelfTest(report: { line in print("self-test: " + line) }, summary: false)
        _ = selfTest.run()
        var passed = selfTest.passed
        var failed = selfTest.failed
        var sip = SIPSelfTest(report: { line in print("self-test: " + line) })
        sip.run()
        passed += sip.passed
        failed += sip.failed
        if let vectors = arguments.vectors {
            var voice = VoiceSelfTest(vectors: vectors, report: { line in print("self-test: " + line) })
            voice.run()
            passed += voice.passed
            failed += voice.failed
        } else {
            print("self-test: (codec vector checks skipped: no --vectors DIR)")
        }
        print("self-test: " + String(passed) + " passed, " + String(failed) + " failed")
        let ok = failed == 0
        if wantSelfTest { exit(ok ? 0 : 1) }

        print("No --config given, so only the self-test ran. The phone itself: deskphone --board FILE --config FILE...")
        print("(see --help and README.md; `make demo` runs it on the '" + board.name + "' board in this terminal).")
        exit(ok ? 0 : 1)
    }
}
