import ErgometerCore

/// Numbers as the charts print them: three significant figures and a unit.
enum ChartText {
    static func quantity(_ value: Double, unit: String) -> String { SignificantFigures.string(value, 3) + " " + unit }
}
