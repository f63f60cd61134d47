@testable import ErgometerCharts
import ErgometerCore
import ErgometerTestSupport
import ErgometerWire
import Foundation
import FoundationXML
import Testing

/// The three pictures (`ergo report/compare/project --svg`): well formed by xmllint, rendered by
/// headless Chromium to a PNG of the chart's size that is not blank, their structure (series,
/// axes, legend) held against golden files, and the report's areas holding every stored joule.
/// Among the load-sensitive suites: Chromium takes both cores for a second a picture.
extension LoadSensitiveSuites {
@Suite(.serialized) struct ChartTests {
    /// A two-hour GPU training job as ergod stores it: every second for the first hour, then per
    /// minute; the GPU at ~250 W with an evaluation dip every ten minutes, the CPU packages, DRAM
    /// and the rest beside it; the hottest sensor read every 5 s, warming from 52 to ~78 °C.
    static let gpuJob: JobSeries = {
        var random = SplitMix64(seed: 16)
        let started = 1_790_000_000.0
        let series = [
            JobSeries.Series(domain: "cpu-package", kind: "cpu-package", source: "rapl"),
            JobSeries.Series(domain: "dram", kind: "dram", source: "rapl"),
            JobSeries.Series(domain: "gpu-0000:17:00.0", kind: "gpu", source: "nvml-energy"),
            JobSeries.Series(domain: "rest", kind: "rest", source: "hwmon-power"),
        ]
        func watts(at t: Double) -> [Double] {
            let evaluating = t.truncatingRemainder(dividingBy: 600) > 540
            let noise = Double(random.next() % 1000) / 1000
            return [evaluating ? 95 : 62 + 6 * noise, 9 + noise, evaluating ? 80 : 245 + 20 * noise, 38 + 4 * noise]
        }
        var samples: [JobSeries.Sample] = []
        func add(_ start: Double, _ end: Double, perMinute: Bool) {
            let uj = watts(at: start - started).map { Int64($0 * (end - start) * 1e6) }
            let hottest: Double? = perMinute || Int(start - started) % 5 == 0 ? 52 + 26 * (1 - exp(-(start - started) / 1500)) : nil
            samples.append(.init(
                start: start, end: end, energyMicrojoules: uj.reduce(0, +), cpuMicroseconds: Int64((end - start) * 7.5e6), perMinute: perMinute,
                seriesMicrojoules: uj, maxCelsius: hottest))
        }
        for second in 0..<3600 { add(started + Double(second), started + Double(second + 1), perMinute: false) }
        for minute in 60..<120 { add(started + Double(minute * 60), started + Double(minute * 60 + 60), perMinute: true) }
        return JobSeries(id: "41", name: "resnet50 <bf16> & AMP", started: started, ended: started + 7200, series: series, samples: samples)
    }()

    static var gpuSummary: PowerChart.Summary {
        let joules = gpuJob.samples.reduce(0.0) { $0 + Double($1.energyMicrojoules) / 1e6 }
        let peak = gpuJob.samples.filter { !$0.perMinute }.map(\.watts).max() ?? 0
        return PowerChart.Summary(energyJoules: joules, durationSeconds: 7200, averageWatts: joules / 7200, peakWatts: peak, source: "mixed")
    }


    @Test func theReportsAreasHoldEveryStoredJoulePerSeries() {
        let binned = PowerChart.bin(Self.gpuJob)
        #expect(binned.edges.count == PowerChart.bins + 1)
        for (index, entry) in Self.gpuJob.series.enumerated() {
            let stored = Self.gpuJob.samples.reduce(0.0) { $0 + Double($1.seriesMicrojoules[index]) / 1e6 }
            // Each bin is 30 s, all of it covered by samples: watts × 30 s is the bin's energy.
            let drawn = binned.watts[index].reduce(0) { $0 + $1 * 30 }
            #expect(abs(drawn / stored - 1) < 1e-9, "\(entry.domain): drawn \(drawn) J, stored \(stored) J")
        }
        let hottest = binned.celsius.compactMap { $0 }
        #expect(hottest.count == PowerChart.bins && hottest.first! < 55 && hottest.last! > 75)
    }

    @Test func thePowerChart() throws {
        try Self.check(PowerChart.svg(series: Self.gpuJob, summary: Self.gpuSummary), named: "chart-report")
    }

    @Test func theComparisonChart() throws {
        // The demo's A and B: a naive kernel on one thread, then a tiled one on two for longer.
        let a = ComputeProfile(
            name: "A naive kernel, 1 thread", flops: 7.86e9, processors: 1, seconds: 3.9, energyJoules: 23.4, flopsBasis: .reported,
            processorsBasis: .estimated, energySource: "rapl")
        let b = ComputeProfile(
            name: "B tiled kernel, 2 threads", flops: 3.15e10, processors: 1.7, seconds: 2.1, energyJoules: 17.2, flopsBasis: .reported,
            processorsBasis: .estimated, energySource: "rapl")
        try Self.check(GrowthChart.svg(a: a, b: b, growth: try ComputeGrowth.between(a, b)), named: "chart-compare")
    }

    @Test func theProjectionChart() throws {
        // The ImageNet examples of Thompson et al. (Config/examples) and a projection to 5 %.
        let points = [
            ScalingPoint(name: "AlexNet (2012)", source: "Config/examples/alexnet.json", flops: 1.6e18, error: 0.367, basis: .estimated),
            ScalingPoint(name: "AmoebaNet-A (2019)", source: "Config/examples/amoebanet-a.json", flops: 1.2e21, error: 0.172, basis: .estimated),
            ScalingPoint(name: "NASNet-A (2018)", source: "Config/examples/nasnet-a.json", flops: 1.6e21, error: 0.173, basis: .estimated),
            ScalingPoint(name: "Noisy Student L2", source: "job 7", flops: 5.6e22, error: 0.116, basis: .reported),
        ]
        let fit = try ScalingLaw.fit(points, irreducibleError: .none).fit
        let projection = try ScalingProjection.project(fit, targetError: 0.05, energyPerFlop: nil, carbon: CarbonAccounting(), flopsPerSecondOnThisBox: nil)
        try Self.check(ScalingChart.svg(points: points, fit: fit, projection: projection, metric: "top1_error"), named: "chart-project")
    }

    @Test func thePaletteStaysApartInGrey() {
        // Rec. 709 luma of each series colour: rising, a clear step between neighbours.
        let luma = ChartFrame.Palette.series.map { hex -> Double in
            let value = Int(hex.dropFirst(), radix: 16)!
            let (r, g, b) = (Double(value >> 16 & 0xFF), Double(value >> 8 & 0xFF), Double(value & 0xFF))
            return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
        }
        for (dark, light) in zip(luma, luma.dropFirst()) { #expect(light - dark > 0.08, "\(luma)") }
    }

    /// Well formed (xmllint), rendered at its size and not blank (Chromium), and its structure
    /// as recorded.
    static func check(_ svg: String, named name: String, snapshot: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/\(name).svg"
        try svg.write(toFile: file, atomically: true, encoding: .utf8)
        // CHART_OUTPUT_DIR=DIR keeps the pictures, to look at them.
        if let keep = ProcessInfo.processInfo.environment["CHART_OUTPUT_DIR"] { try svg.write(toFile: keep + "/\(name).svg", atomically: true, encoding: .utf8) }
        let lint = try ProcessResult.run("/usr/bin/xmllint", ["--noout", file])
        #expect(lint.status == 0, "xmllint: \(lint.standardError)", sourceLocation: sourceLocation)
        let png = try ChartRender.png(of: file, width: ChartFrame.width, height: ChartFrame.height)
        let image = try PNGImage(contentsOf: png)
        #expect(image.width == ChartFrame.width && image.height == ChartFrame.height, "\(image.width)×\(image.height)", sourceLocation: sourceLocation)
        #expect(image.inkedShare > 0.05, "\(name) rendered almost blank: \(image.inkedShare) of it inked", sourceLocation: sourceLocation)
        #expect(image.colourCount > 8, "\(name) rendered in \(image.colourCount) colours", sourceLocation: sourceLocation)
        if snapshot { try Snapshot.assert(try ChartStructure.describe(svg), named: name + ".txt", sourceLocation: sourceLocation) }
        #expect(svg.utf8.count < 64 * 1024, "\(name) is \(svg.utf8.count) bytes: too big for a README", sourceLocation: sourceLocation)
    }
}

}

/// Headless Chromium (Debian's `chromium`) drawing an SVG to a PNG screenshot.
enum ChartRender {
    static func png(of svg: String, width: Int, height: Int) throws -> String {
        let out = svg + ".png"
        guard let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw FixtureError("no chromium: scripts/install-deps installs Debian's chromium, which renders the charts in these tests")
        }
        // Through a shell, output to /dev/null: Chromium's helpers can outlive it holding pipes.
        let result = try ProcessResult.run("/bin/sh", [
            "-c",
            "HOME=\(URL(fileURLWithPath: svg).deletingLastPathComponent().path) timeout 120 \(chromium) --headless --no-sandbox --disable-gpu "
                + "--hide-scrollbars --screenshot='\(out)' --window-size=\(width),\(height) 'file://\(svg)' >/dev/null 2>&1",
        ])
        guard result.status == 0, FileManager.default.fileExists(atPath: out) else {
            throw FixtureError("chromium could not render \(svg) (exit \(result.status))")
        }
        return out
    }
}

/// What a chart holds, as text for a golden file: its title, each group's class and name, the
/// axes' titles and tick labels, and the legend's entries.
enum ChartStructure {
    static func describe(_ svg: String) throws -> String {
        let document = try XMLDocument(data: Data(svg.utf8))
        guard let root = document.rootElement() else { return "" }
        var lines = ["title: " + (root.elements(forName: "title").first?.stringValue ?? "")]
        for group in root.elements(forName: "g") {
            let cssClass = group.attributes?.first { $0.name == "class" }?.stringValue ?? ""
            let name = group.attributes?.first { $0.name == "data-name" }?.stringValue
            let texts = group.elements(forName: "text").compactMap(\.stringValue)
            switch cssClass {
            case "axis": lines.append("axis \(name ?? ""): \(texts.last ?? "") | ticks: \(texts.dropLast().joined(separator: ", "))")
            case "legend": lines.append("legend: " + texts.joined(separator: " | "))
            case "title": lines.append("subtitle: " + (texts.dropFirst().first ?? ""))
            default:
                let shapes = (group.children ?? []).compactMap(\.name).filter { $0 != "text" }
                lines.append("\(cssClass) \(name ?? ""): \(shapes.joined(separator: " "))\(texts.isEmpty ? "" : " “" + texts.joined(separator: "” “") + "”")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
