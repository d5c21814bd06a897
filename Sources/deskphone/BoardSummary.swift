import Config

/// The identity lines of a board profile (`board.name`, `board.model`), read before the
/// phone modules use the rest of it. A board file that cannot be read, is malformed or lacks
/// `board.name` is an error naming the file (and line).
struct BoardSummary {
    var name = ""
    var model = ""
    var description = ""

    static func load(path: String) throws(ConfigError) -> BoardSummary {
        let file = try ConfigFile.load(path: path)
        guard let name = file.string("board.name"), !name.isEmpty else {
            throw ConfigError(path, 0, "no 'board.name' line")
        }
        return BoardSummary(
            name: name, model: file.string("board.model") ?? "", description: file.string("board.description") ?? "")
    }
}
