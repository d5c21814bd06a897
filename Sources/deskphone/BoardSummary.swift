import CLinux

/// The identity lines of a board profile (`board.name`, `board.model`), read before the
/// phone modules exist. A board file that cannot be read or lacks `board.name` is an error
/// naming the file (and line, for a malformed line).
struct BoardSummary {
    var name = ""
    var model = ""
    var description = ""

    static func load(path: String) -> Result<BoardSummary, BoardFileError> {
        let fd = cl_open(path, O_RDONLY, 0)
        if fd < 0 {
            return .failure(BoardFileError(message: path + ": cannot open: " + String(cString: cl_strerror(-fd))))
        }
        defer { _ = cl_close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { cl_read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                return .failure(BoardFileError(message: path + ": read failed: " + String(cString: cl_strerror(Int32(-n)))))
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            if bytes.count > 1 << 20 { return .failure(BoardFileError(message: path + ": larger than 1 MiB")) }
        }
        return parse(String(decoding: bytes, as: UTF8.self), path: path)
    }

    static func parse(_ text: String, path: String) -> Result<BoardSummary, BoardFileError> {
        var summary = BoardSummary()
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = trim(Substring(rawLine))
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                return .failure(BoardFileError(message: path + ":" + String(lineNumber) + ": expected 'key = value'"))
            }
            let key = trim(line[..<eq])
            let value = trim(line[line.index(after: eq)...])
            switch key {
            case "board.name": summary.name = String(value)
            case "board.model": summary.model = String(value)
            case "board.description": summary.description = String(value)
            default: break
            }
        }
        if summary.name.isEmpty {
            return .failure(BoardFileError(message: path + ": no 'board.name' line"))
        }
        return .success(summary)
    }

    private static func trim(_ s: Substring) -> Substring {
        var t = s
        while let c = t.first, c == " " || c == "\t" || c == "\r" { t.removeFirst() }
        while let c = t.last, c == " " || c == "\t" || c == "\r" { t.removeLast() }
        return t
    }
}

struct BoardFileError: Error {
    let message: String
}
