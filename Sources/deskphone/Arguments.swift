// The firmware's command line: `Arguments.parse()` reads argv (through CLinux: Embedded Swift
// has no CommandLine) into the board path, the identity/self-test flags and the call-mode
// options; a bad argument prints why and exits 2.
import CLinux

/// What the command line asked for.
struct Arguments {
    var boardPath = "board/sim.cfg"
    var wantVersion = false
    var wantSelfTest = false
    var vectors: String? = nil
    var call = CallOptions()

    /// The options that take a value (`--listen` last: the `default` of the switch in `parse`).
    static let valued = [
        "--config", "--dial", "--answer", "--answer-delay", "--hangup-after", "--control", "--audio-in", "--audio-out",
        "--keys", "--status-log", "--log", "--listen",
    ]

    /// Reads argv; `-h` prints the usage and exits 0, a bad argument exits 2.
    static func parse() -> Arguments {
        var parsed = Arguments()
        var index = 1
        let argc = Int(cl_argc())
        func argument(_ i: Int) -> String {
            guard let p = cl_argv(Int32(i)) else { return "" }
            return String(cString: p)
        }
        /// The value after option `index` (which it steps over); exits 2 when there is none.
        func operand(_ what: String) -> String {
            guard index + 1 < argc else {
                print("deskphone: " + argument(index) + " needs " + what)
                exit(2)
            }
            index += 1
            return argument(index)
        }
        while index < argc {
            let arg = argument(index)
            switch arg {
            case "--board":
                parsed.boardPath = operand("a file")
            case "--vectors":
                parsed.vectors = operand("a directory")
            case "--provision-dir":
                parsed.call.provisionDirectory = operand("a directory")
            case _ where Arguments.valued.contains(arg):
                let value = operand("a value")
                // One string comparison per option (not two): the position in `valued`.
                switch Arguments.valued.firstIndex(of: arg) ?? 0 {
                case 0:
                    // `--config A.cfg B.cfg ...`: every file up to the next option, in load order.
                    parsed.call.configs.append(value)
                    while index + 1 < argc {
                        let next = argument(index + 1)
                        if next.utf8.first == UInt8(ascii: "-") { break }
                        parsed.call.configs.append(next)
                        index += 1
                    }
                case 1: parsed.call.dial = value
                case 2:
                    guard value == "auto" || value == "no" else {
                        print("deskphone: --answer takes 'auto' or 'no'")
                        exit(2)
                    }
                    parsed.call.autoAnswer = value == "auto"
                case 3:
                    guard let ms = Int(value), ms >= 0, ms <= 600_000 else {
                        print("deskphone: --answer-delay takes milliseconds (0...600000)")
                        exit(2)
                    }
                    parsed.call.answerDelayMilliseconds = Int64(ms)
                case 4:
                    guard let ns = CallOptions.seconds(value) else {
                        print("deskphone: --hangup-after takes seconds (e.g. 5 or 2.5)")
                        exit(2)
                    }
                    parsed.call.hangupAfter = ns
                case 5: parsed.call.control = value
                case 6: parsed.call.audioIn = value
                case 7: parsed.call.audioOut = value
                case 8: parsed.call.keys = value
                case 9: parsed.call.statusLog = value
                case 10: parsed.call.log = value
                default:
                    guard let port = Int(value), port >= 0, port <= 65535 else {
                        print("deskphone: --listen takes a port (0...65535)")
                        exit(2)
                    }
                    parsed.call.listenPort = port
                }
            case "--exit-after-call": parsed.call.exitAfterCall = true
            case "--version": parsed.wantVersion = true
            case "--self-test": parsed.wantSelfTest = true
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
        return parsed
    }
}

/// The call-mode options (see `usage()`).
struct CallOptions {
    var configs: [String] = []
    var dial: String? = nil
    var autoAnswer = false
    var answerDelayMilliseconds: Int64 = 0
    var hangupAfter: Int64? = nil
    var exitAfterCall = false
    var control: String? = nil
    var audioIn: String? = nil
    var audioOut: String? = nil
    var listenPort: Int? = nil
    var keys: String? = nil
    var statusLog: String? = nil
    var log: String? = nil
    /// Where the last good fetched provisioning set is stored (overrides `board.provision_dir`).
    var provisionDirectory: String? = nil

    var isCallMode: Bool { !configs.isEmpty || dial != nil || autoAnswer || control != nil || keys != nil }

    /// "2", "2.5", "0.25" seconds as nanoseconds; nil when malformed or negative.
    static func seconds(_ text: String) -> Int64? {
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var scale: Int64 = 1_000_000_000
        var inFraction = false
        var digits = 0
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") && !inFraction {
                inFraction = true
                continue
            }
            guard byte >= 48 && byte <= 57 else { return nil }
            digits += 1
            let digit = Int64(byte - 48)
            if inFraction {
                scale /= 10
                fraction += digit * scale
            } else {
                whole = whole * 10 + digit
                if whole > 1_000_000 { return nil }
            }
        }
        guard digits > 0 else { return nil }
        return whole * 1_000_000_000 + fraction
    }
}
