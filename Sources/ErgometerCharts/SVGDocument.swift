/// An SVG picture being written: the one place that writes SVG markup, escapes text and
/// formats coordinates (a tenth of a pixel at most, so files stay small and identical run to run).
/// Charts draw into it with plot coordinates already scaled; `text` is the finished file.
public struct SVGDocument: Sendable {
    public let width: Int
    public let height: Int
    private(set) var body = ""
    private var depth = 1

    public init(width: Int, height: Int, title: String, description: String) {
        self.width = width
        self.height = height
        line("<title>\(Self.escape(title))</title>")
        line("<desc>\(Self.escape(description))</desc>")
        line("<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>")
    }

    /// The finished file.
    public var text: String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">

        """ + body + "</svg>\n"
    }

    /// A group; `name` (a series, an axis) becomes its `data-name`, for tests and for readers.
    public mutating func group(_ cssClass: String, name: String? = nil, _ draw: (inout SVGDocument) -> Void) {
        line("<g class=\"\(Self.escape(cssClass))\"\(name.map { " data-name=\"\(Self.escape($0))\"" } ?? "")>")
        depth += 1
        draw(&self)
        depth -= 1
        line("</g>")
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil) {
        line(
            "<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" "
                + "stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\"\(Self.dash(dash))/>")
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil, opacity: Double? = nil) {
        line(
            "<rect x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(max(width, 0)))\" height=\"\(Self.number(max(height, 0)))\" "
                + "fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\"" } ?? "")\(opacity.map { " fill-opacity=\"\(Self.number($0))\"" } ?? "")/>")
    }

    /// An open line through the points.
    public mutating func polyline(_ points: [(Double, Double)], stroke: String, width: Double = 1.5, dash: String? = nil) {
        guard points.count > 1 else { return }
        line(
            "<polyline points=\"\(Self.points(points))\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\" "
                + "stroke-linejoin=\"round\"\(Self.dash(dash))/>")
    }

    /// A closed, filled shape.
    public mutating func polygon(_ points: [(Double, Double)], fill: String, stroke: String? = nil, opacity: Double? = nil) {
        guard points.count > 2 else { return }
        line(
            "<polygon points=\"\(Self.points(points))\" fill=\"\(fill)\"\(stroke.map { " stroke=\"\($0)\" stroke-width=\"0.5\"" } ?? "")"
                + "\(opacity.map { " fill-opacity=\"\(Self.number($0))\"" } ?? "")/>")
    }

    public mutating func circle(x: Double, y: Double, radius: Double, fill: String, stroke: String = "black") {
        line("<circle cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(radius))\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>")
    }

    public enum Anchor: String, Sendable { case start, middle, end }

    /// Text whose baseline starts, centres or ends at (x, y); `rotated` turns it a quarter left
    /// (a vertical axis's title).
    public mutating func text(
        _ string: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 12, bold: Bool = false, fill: String = "#222222",
        rotated: Bool = false
    ) {
        let transform = rotated ? " transform=\"rotate(-90 \(Self.number(x)) \(Self.number(y)))\"" : ""
        line(
            "<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" text-anchor=\"\(anchor.rawValue)\" font-size=\"\(Self.number(size))\""
                + "\(bold ? " font-weight=\"bold\"" : "") fill=\"\(fill)\"\(transform)>\(Self.escape(string))</text>")
    }

    private mutating func line(_ markup: String) {
        body += String(repeating: "  ", count: depth) + markup + "\n"
    }

    /// `&`, `<`, `>` and quotes as entities: job names and paths are the user's text.
    public static func escape(_ string: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(string.utf8.count)
        for character in string {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default:
                // Control characters are not allowed in XML 1.0; a job name may hold them.
                if let scalar = character.unicodeScalars.first, scalar.value < 0x20, scalar != "\t", scalar != "\n" { escaped += " " } else { escaped.append(character) }
            }
        }
        return escaped
    }

    /// A coordinate with at most one decimal (a tenth of a pixel) and no trailing zero.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = (value * 10).rounded()
        guard abs(tenths) < 1e15 else { return String(value) }
        let whole = Int64(tenths)
        let sign = whole < 0 ? "-" : ""
        let integer = whole.magnitude / 10
        let fraction = whole.magnitude % 10
        return sign + String(integer) + (fraction == 0 ? "" : "." + String(fraction))
    }

    private static func points(_ points: [(Double, Double)]) -> String {
        points.map { number($0.0) + "," + number($0.1) }.joined(separator: " ")
    }

    private static func dash(_ dash: String?) -> String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }
}
