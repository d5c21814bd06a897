// deskphone: the firmware executable. For now it identifies itself and its board, and runs
// the reactor self-test; the phone's main job (keys, calls, recording) arrives with the
// issues that build on the reactor (see README.md).
import CAlsa
import CEvdev
import CLinux
import COpus
import Config
import Reactor

let firmwareVersion = "0.1.0"

func usage() {
    print("usage: deskphone [--board FILE] [--version] [--self-test [--vectors DIR]]")
    print("  --board FILE   board profile (default: board/sim.cfg)")
    print("  --version      print version, board and linked libraries")
    print("  --self-test    exercise the reactor on the real clock and the codecs; exit 0 only if all held")
    print("  --vectors DIR  ITU-T G.191 vectors (shared/testvectors/itu-t-g191) for the codec checks")
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
        var boardPath = "board/sim.cfg"
        var wantVersion = false
        var wantSelfTest = false
        var vectors: String? = nil
        var index = 1
        let argc = Int(cl_argc())
        func argument(_ i: Int) -> String {
            guard let p = cl_argv(Int32(i)) else { return "" }
            return String(cString: p)
        }
        while index < argc {
            let arg = argument(index)
            switch arg {
            case "--board":
                guard index + 1 < argc else {
                    print("deskphone: --board needs a file")
                    exit(2)
                }
                boardPath = argument(index + 1)
                index += 1
            case "--vectors":
                guard index + 1 < argc else {
                    print("deskphone: --vectors needs a directory")
                    exit(2)
                }
                vectors = argument(index + 1)
                index += 1
            case "--version": wantVersion = true
            case "--self-test": wantSelfTest = true
            case "-h", "--help":
                usage()
                exit(0)
            default:
                print("deskphone: unknown argument '" + arg + "'")
                usage()
                exit(2)
            }
            index += 1
        }

        let board: BoardSummary
        do {
            board = try BoardSummary.load(path: boardPath)
        } catch {
            print("deskphone: " + error.description)
            exit(2)
        }

        printIdentity(board: board)
        if wantVersion { exit(0) }

        var selfTest = ReactorSelfTest(report: { line in print("self-test: " + line) }, summary: false)
        _ = selfTest.run()
        var passed = selfTest.passed
        var failed = selfTest.failed
        var sip = SIPSelfTest(report: { line in print("self-test: " + line) })
        sip.run()
        passed += sip.passed
        failed += sip.failed
        if let vectors {
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

        print("The phone's main job (keypad, calls, recording on the '" + board.name + "' board) is not built yet;")
        print("this firmware runs the reactor self-test only. See README.md for what is coming.")
        exit(ok ? 0 : 1)
    }
}
