// deskphone-sip-bench: parse + serialize of one SIP message, timed. Built twice (host Swift by
// SwiftPM, Embedded Swift by toolchain/build-firmware.py --product=deskphone-sip-bench) so
// `deskphone-tool bench sip` can compare both builds with libosip2 on the same bytes.
// Prints `sip parse+serialize ITERATIONS NS_TOTAL` (best of 5 rounds) and the serialized size.
import CLinux
import Config
import SIP

@main
struct SIPBench {
    static func main() {
        var path = "bench/invite-sdp.sip"
        var iterations = 200_000
        var i = 1
        while i < Int(cl_argc()) {
            let arg = String(cString: cl_argv(Int32(i))!)
            if arg == "--iterations", i + 1 < Int(cl_argc()) {
                iterations = Int(String(cString: cl_argv(Int32(i + 1))!)) ?? iterations
                i += 1
            } else if arg == "--message", i + 1 < Int(cl_argc()) {
                path = String(cString: cl_argv(Int32(i + 1))!)
                i += 1
            } else {
                print("usage: deskphone-sip-bench [--message FILE] [--iterations N]")
                exit(2)
            }
            i += 1
        }
        let bytes: [UInt8]
        do throws(ConfigError) {
            bytes = try FileText.bytes(path)
        } catch {
            print("cannot read " + path + ": " + error.description)
            exit(1)
        }
        var size = 0
        do throws(SIPError) {
            size = try SIPMessage.parse(bytes).serialized().count
        } catch {
            print("the benchmark message does not parse: " + error.description)
            exit(1)
        }
        var bestNs = Int64.max
        var sink = 0
        for _ in 0..<5 {
            let start = cl_monotonic_ns()
            for _ in 0..<iterations {
                do throws(SIPError) {
                    let message = try SIPMessage.parse(bytes)
                    sink &+= message.serialized().count
                } catch {
                    sink &+= 1
                }
            }
            bestNs = min(bestNs, cl_monotonic_ns() - start)
        }
        print("sip parse+serialize " + String(iterations) + " " + String(bestNs))
        print("sip serialized-bytes " + String(size) + " " + String(sink % 2))
    }
}
