/// The self-test's checks, counted and reported one line each (`ok   name` or `FAIL name: why`).
struct SelfTestTally {
    let report: (String) -> Void
    private(set) var passed = 0
    private(set) var failed = 0

    init(report: @escaping (String) -> Void) { self.report = report }

    /// Counts one check: `problem` nil is a pass.
    mutating func check(_ name: String, _ problem: String?) {
        if let problem {
            failed += 1
            report("FAIL " + name + ": " + problem)
        } else {
            passed += 1
            report("ok   " + name)
        }
    }
}
