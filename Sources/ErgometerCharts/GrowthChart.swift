public import ErgometerCore
import Foundation

/// `ergo compare A B --svg`: the compute ratio F_B/F_A as the product of its three factors on a
/// log axis (better hardware h, more processors N, running longer T, one bar each from 1, and
/// laid end to end to make F), with the energy ratio and the joules-per-FLOP ratio beside.
public enum GrowthChart {
    public static func svg(a: ComputeProfile, b: ComputeProfile, growth: ComputeGrowth) -> String {
        var frame = ChartFrame()
        frame.left = 220
        frame.right = Double(ChartFrame.width) - 60
        let f = growth.factors
        let title = "Compute from A to B: \(ComputeGrowth.times(growth.computeRatio)), and what it came from"
        var document = SVGDocument(
            width: ChartFrame.width, height: ChartFrame.height, title: title,
            description: "The compute ratio as the product of better hardware, more processors and a longer run (log scale); energy and joules per FLOP.")
        frame.title(
            &document, title,
            subtitle: "F_B/F_A = h × N × T: hardware \(ComputeGrowth.times(f.hardware)) · processors \(ComputeGrowth.times(f.processors)) "
                + "· duration \(ComputeGrowth.times(f.duration))")
        var values = [1, f.hardware, f.processors, f.duration, growth.computeRatio, f.hardware * f.processors]
        if let energy = growth.energyRatio { values.append(energy) }
        if let perFlop = growth.energyPerFlopRatio { values.append(perFlop) }
        let finite = values.filter { $0.isFinite && $0 > 0 }
        let x = ChartScale.log(finite.min()! / 1.5, finite.max()! * 1.5, pixels: frame.xPixels)
        frame.xAxis(&document, x, title: "ratio B / A (log scale; 1 = no change)") { ComputeGrowth.times($0) }

        struct Row { var label: String; var detail: String; var from: Double; var to: Double; var color: String; var name: String }
        func share(_ value: Double?) -> String {
            value.map { " (\(Int(($0 * 100).rounded()).description.replacingOccurrences(of: "-", with: "−")) % of the growth)" } ?? ""
        }
        var rows = [
            Row(label: "better hardware (h)", detail: ComputeGrowth.times(f.hardware) + share(growth.shares?.hardware), from: 1, to: f.hardware,
                color: ChartFrame.Palette.series(0), name: "hardware"),
            Row(label: "more processors (N)", detail: ComputeGrowth.times(f.processors) + share(growth.shares?.processors), from: 1, to: f.processors,
                color: ChartFrame.Palette.series(2), name: "processors"),
            Row(label: "running longer (T)", detail: ComputeGrowth.times(f.duration) + share(growth.shares?.duration), from: 1, to: f.duration,
                color: ChartFrame.Palette.series(4), name: "duration"),
        ]
        let rowCount = 4 + (growth.energyRatio != nil ? 1 : 0) + (growth.energyPerFlopRatio != nil ? 1 : 0)
        let pitch = (frame.bottom - frame.top) / Double(rowCount + 1)
        let barHeight = min(30, pitch * 0.6)
        func rowY(_ index: Int) -> Double { frame.top + pitch * (Double(index) + 0.5) + (index >= 4 ? pitch * 0.5 : 0) }
        func bar(_ svg: inout SVGDocument, _ row: Row, y: Double) {
            let x1 = x.pixel(min(row.from, row.to))
            let x2 = x.pixel(max(row.from, row.to))
            svg.rect(x: x1, y: y - barHeight / 2, width: max(x2 - x1, 1), height: barHeight, fill: row.color, stroke: ChartFrame.Palette.ink)
        }
        for (index, row) in rows.enumerated() {
            let y = rowY(index)
            document.group("series", name: row.name) { svg in
                svg.text(row.label, x: frame.left - 10, y: y + 4, anchor: .end)
                bar(&svg, row, y: y)
                label(&svg, row.detail, at: x.pixel(row.to), y: y, leftward: row.to < 1, frame: frame, one: x.pixel(1))
            }
        }
        // F = h·N·T: the three bars end to end.
        let product = rowY(3)
        document.group("series", name: "compute") { svg in
            svg.text("compute (F = h·N·T)", x: frame.left - 10, y: product + 4, anchor: .end, bold: true)
            // A waterfall: each factor in its own lane, starting where the one before ended.
            var from = 1.0
            let lane = barHeight / Double(rows.count)
            for (index, row) in rows.enumerated() {
                let to = from * row.to
                let x1 = x.pixel(min(from, to))
                let x2 = x.pixel(max(from, to))
                svg.rect(
                    x: x1, y: product - barHeight / 2 + lane * Double(index), width: max(x2 - x1, 1), height: lane, fill: row.color,
                    stroke: ChartFrame.Palette.ink)
                from = to
            }
            svg.line(x1: x.pixel(growth.computeRatio), y1: product - barHeight / 2 - 5, x2: x.pixel(growth.computeRatio), y2: product + barHeight / 2 + 5,
                stroke: ChartFrame.Palette.ink, width: 2)
            var reach = (low: 1.0, high: 1.0)
            var partial = 1.0
            for row in rows {
                partial *= row.to
                reach = (min(reach.low, partial), max(reach.high, partial))
            }
            let leftward = growth.computeRatio < 1
            label(&svg, "F " + ComputeGrowth.times(growth.computeRatio), at: x.pixel(leftward ? reach.low : reach.high), y: product, leftward: leftward, frame: frame, one: x.pixel(1))
        }
        rows = []
        if let energy = growth.energyRatio {
            rows.append(Row(label: "energy (E)", detail: ComputeGrowth.times(energy) + energySources(a, b), from: 1, to: energy,
                color: "#bbbbbb", name: "energy"))
        }
        if let perFlop = growth.energyPerFlopRatio {
            rows.append(Row(label: "joules per FLOP (e = E/F)", detail: ComputeGrowth.times(perFlop) + energySources(a, b), from: 1, to: perFlop, color: "#777777", name: "joules-per-flop"))
        }
        for (offset, row) in rows.enumerated() {
            let y = rowY(4 + offset)
            document.group("series", name: row.name) { svg in
                svg.text(row.label, x: frame.left - 10, y: y + 4, anchor: .end)
                bar(&svg, row, y: y)
                label(&svg, row.detail, at: x.pixel(row.to), y: y, leftward: row.to < 1, frame: frame, one: x.pixel(1))
            }
        }
        document.group("reference", name: "no change") { svg in
            svg.line(x1: x.pixel(1), y1: frame.top, x2: x.pixel(1), y2: frame.bottom, stroke: ChartFrame.Palette.ink, width: 1.5)
        }
        frame.legend(&document, [
            ("A: \(a.name), \(SignificantFigures.string(a.flops, 3)) FLOP (\(a.flopsBasis.rawValue)) in \(SignificantFigures.string(a.seconds, 3)) s", .marker("white")),
            ("B: \(b.name), \(SignificantFigures.string(b.flops, 3)) FLOP (\(b.flopsBasis.rawValue)) in \(SignificantFigures.string(b.seconds, 3)) s", .marker("#555555")),
        ])
        return document.text
    }

    /// The bar's figure beyond its end; a bar that ends too near the left edge for it has it
    /// right of the "no change" line instead.
    private static func label(_ svg: inout SVGDocument, _ text: String, at x: Double, y: Double, leftward: Bool, frame: ChartFrame, one: Double) {
        let room = Double(text.count) * 5.8
        if leftward && x - 6 - room >= frame.left {
            svg.text(text, x: x - 6, y: y + 4, anchor: .end, size: 11)
        } else {
            svg.text(text, x: min((leftward ? one : x) + 6, Double(ChartFrame.width) - 8 - room), y: y + 4, anchor: .start, size: 11)
        }
    }

    private static func energySources(_ a: ComputeProfile, _ b: ComputeProfile) -> String {
        let sources = [a.energySource, b.energySource].compactMap { $0 }
        return sources.isEmpty ? "" : " (" + (Set(sources).count == 1 ? sources[0] : sources.joined(separator: " vs ")) + ")"
    }
}
