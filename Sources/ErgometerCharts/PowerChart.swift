public import ErgometerWire
import Foundation

/// `ergo report ID --svg`: the job's power over time, one stacked area per series (a domain and
/// the source that measured it), its average and peak as lines, and the hottest sensor on a
/// second axis. Samples are put into at most `bins` equal time bins, each bin's power being its
/// energy over the time samples cover in it, so the areas hold every joule stored.
public enum PowerChart {
    public static let bins = 240

    /// The job's figures the chart prints beside its series: from its report.
    public struct Summary: Sendable {
        public var energyJoules: Double
        public var durationSeconds: Double
        public var averageWatts: Double
        /// The highest one-tick power.
        public var peakWatts: Double
        /// Where the job's energy came from (`rapl`, `model`, `mixed`, as its report says).
        public var source: String

        public init(energyJoules: Double, durationSeconds: Double, averageWatts: Double, peakWatts: Double, source: String) {
            self.source = source
            self.energyJoules = energyJoules
            self.durationSeconds = durationSeconds
            self.averageWatts = averageWatts
            self.peakWatts = peakWatts
        }

        public init(_ report: JobReport) {
            self.init(
                energyJoules: report.energyJoules, durationSeconds: report.durationSeconds, averageWatts: report.averagePowerWatts,
                peakWatts: report.peakPowerWatts, source: report.source)
        }
    }

    /// A series' power per bin, W, stacked in series order; the hottest sensor per bin.
    struct Binned {
        var edges: [Double]
        var watts: [[Double]]
        var celsius: [Double?]
    }

    public static func svg(series: JobSeries, summary report: Summary) -> String {
        let frame = ChartFrame()
        let binned = bin(series)
        let start = series.started
        let end = max(binned.edges.last ?? start, start + 1)
        let unit = TimeUnit(seconds: end - start)
        var document = SVGDocument(
            width: ChartFrame.width, height: ChartFrame.height, title: "Job \(series.id) (\(series.name)): power by domain",
            description: "Stacked power per domain and source over the job, W; average and peak; hottest sensor, °C.")
        let stackTop = (0..<(binned.edges.count - 1)).map { bin in binned.watts.reduce(0) { $0 + $1[bin] } }
        let highest = max(stackTop.max() ?? 0, report.peakWatts, report.averageWatts)
        let x = ChartScale.linear(0, (end - start) / unit.seconds, pixels: frame.xPixels, ticks: 8)
        let y = ChartScale.linear(0, highest * 1.05, pixels: frame.yPixels, flipped: true)
        frame.title(
            &document, "Job \(series.id) (\(series.name)): power by domain",
            subtitle: "\(joules(report.energyJoules)) over \(duration(report.durationSeconds)) · average \(watts(report.averageWatts)), "
                + "peak \(watts(report.peakWatts)) [\(report.source)] · \(series.samples.count) samples, \(binned.edges.count - 1) bins")
        frame.xAxis(&document, x, title: "time since the job started (\(unit.name))")
        frame.yAxis(&document, y, title: "power (W)")

        func px(_ time: Double) -> Double { x.pixel((time - start) / unit.seconds) }
        var lower = [Double](repeating: 0, count: binned.edges.count - 1)
        var legend: [(label: String, swatch: ChartFrame.Swatch)] = []
        for (index, entry) in series.series.enumerated() {
            let color = ChartFrame.Palette.series(index)
            let upper = zip(lower, binned.watts[index]).map { $0 + $1 }
            var outline: [(Double, Double)] = []
            for bin in upper.indices {
                outline.append((px(binned.edges[bin]), y.pixel(upper[bin])))
                outline.append((px(binned.edges[bin + 1]), y.pixel(upper[bin])))
            }
            for bin in lower.indices.reversed() {
                outline.append((px(binned.edges[bin + 1]), y.pixel(lower[bin])))
                outline.append((px(binned.edges[bin]), y.pixel(lower[bin])))
            }
            let label = entry.domain == "all" ? "all domains (\(entry.source), stored before per-domain series)" : "\(entry.domain) (\(entry.source))"
            document.group("series", name: "\(entry.domain) \(entry.source)") { svg in
                svg.polygon(outline, fill: color, stroke: ChartFrame.Palette.ink)
            }
            legend.append((label, .area(color)))
            lower = upper
        }
        document.group("reference", name: "average") { svg in
            let level = y.pixel(report.averageWatts)
            svg.line(x1: frame.left, y1: level, x2: frame.right, y2: level, stroke: ChartFrame.Palette.ink, width: 1.5, dash: "6 4")
        }
        document.group("reference", name: "peak") { svg in
            let level = y.pixel(report.peakWatts)
            svg.line(x1: frame.left, y1: level, x2: frame.right, y2: level, stroke: ChartFrame.Palette.ink, width: 1, dash: "1 3")
            svg.text("peak \(watts(report.peakWatts)) (one tick)", x: frame.right - 4, y: level - 5, anchor: .end, size: 11)
        }
        legend.append(("average \(watts(report.averageWatts))", .line(ChartFrame.Palette.ink, dash: "6 4")))
        let temperatures = binned.celsius.compactMap { $0 }
        if let coolest = temperatures.min(), let hottest = temperatures.max() {
            let t = ChartScale.linear(coolest - 2, hottest + 2, pixels: frame.yPixels, flipped: true)
            frame.yAxis(&document, t, title: "hottest sensor (°C)", side: .right, color: ChartFrame.Palette.accent)
            document.group("series", name: "temperature") { svg in
                // Runs of bins with a reading as lines; a lone reading as a dot.
                func draw(_ run: [(Double, Double)]) {
                    if run.count == 1 { svg.circle(x: run[0].0, y: run[0].1, radius: 3, fill: ChartFrame.Palette.accent, stroke: ChartFrame.Palette.accent) }
                    svg.polyline(run, stroke: ChartFrame.Palette.accent, width: 2, dash: "8 3")
                }
                var run: [(Double, Double)] = []
                for (bin, celsius) in binned.celsius.enumerated() {
                    guard let celsius else {
                        draw(run)
                        run = []
                        continue
                    }
                    run.append((px((binned.edges[bin] + binned.edges[bin + 1]) / 2), t.pixel(celsius)))
                }
                draw(run)
            }
            legend.append(("hottest sensor, °C (right axis)", .line(ChartFrame.Palette.accent, dash: "8 3")))
        }
        frame.legend(&document, legend)
        return document.text
    }

    /// The samples in at most `bins` equal bins from the job's start to its last sample.
    static func bin(_ series: JobSeries) -> Binned {
        let start = series.started
        let end = max(series.samples.map(\.end).max() ?? start, start)
        let count = max(1, min(bins, series.samples.count))
        let width = max(end - start, 1e-9) / Double(count)
        let edges = (0...count).map { start + Double($0) * width }
        var energy = [[Double]](repeating: [Double](repeating: 0, count: count), count: series.series.count)
        var covered = [Double](repeating: 0, count: count)
        var celsius = [Double?](repeating: nil, count: count)
        for sample in series.samples where sample.end > sample.start {
            let first = max(0, min(count - 1, Int(((sample.start - start) / width).rounded(.down))))
            let last = max(0, min(count - 1, Int(((sample.end - start) / width).rounded(.up)) - 1))
            let span = sample.end - sample.start
            for bin in first...max(first, last) {
                let overlap = min(sample.end, edges[bin + 1]) - max(sample.start, edges[bin])
                guard overlap > 0 else { continue }
                covered[bin] += overlap
                for (index, microjoules) in sample.seriesMicrojoules.enumerated() where index < energy.count {
                    energy[index][bin] += Double(microjoules) / 1e6 * overlap / span
                }
                if let hottest = sample.maxCelsius { celsius[bin] = max(celsius[bin] ?? hottest, hottest) }
            }
        }
        let watts = energy.map { joules in joules.indices.map { covered[$0] > 0 ? joules[$0] / covered[$0] : 0 } }
        return Binned(edges: edges, watts: watts, celsius: celsius)
    }

    /// Seconds, minutes or hours, whichever keeps the axis's numbers small.
    struct TimeUnit {
        var name: String
        var seconds: Double

        init(seconds span: Double) {
            if span <= 180 {
                (name, seconds) = ("s", 1)
            } else if span <= 3 * 3600 {
                (name, seconds) = ("min", 60)
            } else {
                (name, seconds) = ("h", 3600)
            }
        }
    }

    static func watts(_ value: Double) -> String { ChartText.quantity(value, unit: "W") }
    static func joules(_ value: Double) -> String { value >= 1e6 ? ChartText.quantity(value / 1e6, unit: "MJ") : value >= 1e3 ? ChartText.quantity(value / 1e3, unit: "kJ") : ChartText.quantity(value, unit: "J") }
    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? ChartText.quantity(seconds, unit: "s") : seconds < 7200 ? ChartText.quantity(seconds / 60, unit: "min") : ChartText.quantity(seconds / 3600, unit: "h")
    }
}
