/// What the phone shows: LED states and the LCD contents (filled in by the Indicators work).
public final class IndicatorModel {
    public init() {}
}
