import Config

/// A board profile: what a phone board has (keymap, LEDs, LCD, audio devices), from one
/// `board/NAME.cfg` file.
public struct BoardProfile {
    public let file: ConfigFile
}
