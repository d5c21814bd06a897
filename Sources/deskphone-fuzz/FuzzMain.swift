import SIP

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if size > 2, let d = data, d[0] == 1, d[1] == 2 { }
    return 0
}
#else
@main
struct FuzzReplay {
    static func main() { print(SIPStack.userAgentProduct) }
}
#endif
