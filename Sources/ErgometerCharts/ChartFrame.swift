/// What every chart shares: its size, the plot rectangle, the title, the axes with their ticks,
/// grid and titles, and the legend. Colours are viridis steps, dark to light, so that series
/// stay apart printed in grey; lines beside them differ by dash as well as colour.
public struct ChartFrame: Sendable {
    /// The fixed size a README shows.
    public static let width = 800
    public static let height = 460

    public enum Palette {
        /// Dark to light; a stack's series in this order stay distinct in grey-scale.
        public static let series = ["#2d1160", "#3e4a89", "#26828e", "#35b779", "#90d743", "#fde725"]
        public static let accent = "#b2182b"
        public static let ink = "#222222"
        public static let grid = "#dddddd"

        public static func series(_ index: Int) -> String { series[index % series.count] }
    }

    /// A legend entry's mark.
    public enum Swatch: Sendable {
        case area(String)
        case line(String, dash: String?)
        case marker(String)
    }

    public var left = 78.0
    public var right = Double(width) - 78
    public var top = 64.0
    public var bottom = Double(height) - 104

    public init() {}

    public var xPixels: ClosedRange<Double> { left...right }
    public var yPixels: ClosedRange<Double> { top...bottom }

    public func title(_ document: inout SVGDocument, _ title: String, subtitle: String) {
        document.group("title") { svg in
            svg.text(title, x: left, y: 26, size: 16, bold: true)
            svg.text(subtitle, x: left, y: 46, size: 12, fill: "#555555")
        }
    }

    /// The horizontal axis along the bottom, with vertical grid lines at its ticks.
    public func xAxis(_ document: inout SVGDocument, _ scale: ChartScale, title: String, ticks: [Double]? = nil, label: ((Double) -> String)? = nil) {
        document.group("axis", name: "x") { svg in
            for tick in ticks ?? scale.ticks {
                let x = scale.pixel(tick)
                guard x >= left - 0.5, x <= right + 0.5 else { continue }
                svg.line(x1: x, y1: top, x2: x, y2: bottom, stroke: Palette.grid)
                svg.line(x1: x, y1: bottom, x2: x, y2: bottom + 5, stroke: Palette.ink)
                svg.text(label?(tick) ?? scale.label(tick), x: x, y: bottom + 19, anchor: .middle, size: 11)
            }
            svg.line(x1: left, y1: bottom, x2: right, y2: bottom, stroke: Palette.ink)
            svg.text(title, x: (left + right) / 2, y: bottom + 40, anchor: .middle, size: 12)
        }
    }

    public enum Side: Sendable { case left, right }

    /// A vertical axis on one side; the left one draws horizontal grid lines at its ticks.
    public func yAxis(
        _ document: inout SVGDocument, _ scale: ChartScale, title: String, side: Side = .left, color: String = Palette.ink,
        label: ((Double) -> String)? = nil
    ) {
        document.group("axis", name: side == .left ? "y" : "y2") { svg in
            let x = side == .left ? left : right
            for tick in scale.ticks {
                let y = scale.pixel(tick)
                guard y >= top - 0.5, y <= bottom + 0.5 else { continue }
                if side == .left { svg.line(x1: left, y1: y, x2: right, y2: y, stroke: Palette.grid) }
                svg.line(x1: x, y1: y, x2: side == .left ? x - 5 : x + 5, y2: y, stroke: color)
                svg.text(label?(tick) ?? scale.label(tick), x: side == .left ? x - 8 : x + 8, y: y + 4, anchor: side == .left ? .end : .start, size: 11, fill: color)
            }
            svg.line(x1: x, y1: top, x2: x, y2: bottom, stroke: color)
            let titleX = side == .left ? 20.0 : Double(Self.width) - 14
            svg.text(title, x: titleX, y: (top + bottom) / 2, anchor: .middle, size: 12, fill: color, rotated: true)
        }
    }

    /// The legend below the x axis, entries left to right, wrapping to a second row.
    public func legend(_ document: inout SVGDocument, _ entries: [(label: String, swatch: Swatch)]) {
        document.group("legend") { svg in
            var x = left
            var y = bottom + 66
            for entry in entries {
                let width = 26 + Double(entry.label.count) * 6.6
                if x + width > Double(Self.width) - 10 && x > left {
                    x = left
                    y += 18
                }
                switch entry.swatch {
                case .area(let fill): svg.rect(x: x, y: y - 10, width: 14, height: 12, fill: fill, stroke: Palette.ink)
                case .line(let stroke, let dash): svg.line(x1: x, y1: y - 4, x2: x + 16, y2: y - 4, stroke: stroke, width: 2, dash: dash)
                case .marker(let fill): svg.circle(x: x + 7, y: y - 4, radius: 4.5, fill: fill)
                }
                svg.text(entry.label, x: x + 20, y: y, size: 11)
                x += width + 14
            }
        }
    }
}
