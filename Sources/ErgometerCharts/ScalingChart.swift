public import ErgometerCore
import Foundation

/// `ergo project … --svg`: error against compute on log-log axes: the points (jobs measured
/// here and spec files apart), the fitted law with its 95 % prediction band, the floor ε∞ when
/// the fit has one, and the target error with the compute projected to reach it (and that
/// compute's interval).
public enum ScalingChart {
    public static func svg(points: [ScalingPoint], fit: ScalingLawFit, projection: ScalingProjection, metric: String) -> String {
        let frame = ChartFrame()
        let k = SignificantFigures.string(fit.kExponent, 3)
        let exponent = SignificantFigures.string(fit.slope, 3).replacingOccurrences(of: "-", with: "−")
        let title = "\(metric) against compute: \(fit.irreducibleError.map { "\(ScalingLawFit.percent($0)) + " } ?? "")A·F^\(exponent)"
        var document = SVGDocument(
            width: ChartFrame.width, height: ChartFrame.height, title: title,
            description: "Log-log scaling law over the points, its 95 % prediction band, the target error and the compute projected to reach it.")
        frame.title(
            &document, title,
            subtitle: "k = \(k) (halving the error costs \(ComputeGrowth.times(fit.halvingMultiplier)) the compute) · \(points.count) points, R² "
                + "\(FixedDecimal.string(fit.line.rSquared, 3)) · target \(ScalingLawFit.percent(projection.targetError)) → "
                + "\(SignificantFigures.string(projection.flops, 2)) FLOP")

        let pointFlops = points.map(\.flops)
        let lowestFlops = min(pointFlops.min()!, projection.flops, projection.flopsLower ?? .infinity)
        let highestFlops = max(pointFlops.max()!, projection.flops, projection.flopsUpper.map { min($0, projection.flops * 1e3) } ?? 0)
        let x = ChartScale.log(lowestFlops / 2, highestFlops * 2, pixels: frame.xPixels)
        let floor = fit.irreducibleError ?? 0
        let errors = points.map(\.error) + [projection.targetError] + (floor > 0 ? [floor] : [])
        let y = ChartScale.log(errors.min()! / 1.3, min(errors.max()! * 1.3, 1), pixels: frame.yPixels, flipped: true)
        frame.xAxis(&document, x, title: "compute (FLOP, log scale)")
        frame.yAxis(&document, y, title: "\(metric) (log scale)") { ScalingLawFit.percent($0) }

        // The curve and its band over the axis, in 96 steps of log10 F.
        let steps = (0...96).map { pow(10, log10(x.lower) + (log10(x.upper) - log10(x.lower)) * Double($0) / 96) }
        func clamp(_ value: Double) -> Double { min(max(value, y.lower), y.upper) }
        func pixelPoint(_ flops: Double, _ error: Double) -> (Double, Double) { (x.pixel(flops), y.pixel(clamp(error))) }
        let band = steps.compactMap { flops in fit.line.predictionInterval(log10(flops)).map { (flops, $0) } }
        if !band.isEmpty {
            document.group("band", name: "95 % prediction interval") { svg in
                let upper = band.map { pixelPoint($0.0, floor + pow(10, $0.1.upperBound)) }
                let lower = band.reversed().map { pixelPoint($0.0, floor + pow(10, $0.1.lowerBound)) }
                svg.polygon(upper + lower, fill: ChartFrame.Palette.series(2), opacity: 0.25)
            }
        }
        document.group("series", name: "fit") { svg in
            svg.polyline(steps.map { pixelPoint($0, fit.error(atFlops: $0)) }, stroke: ChartFrame.Palette.series(1), width: 2)
        }
        if floor > 0 {
            document.group("reference", name: "floor") { svg in
                let level = y.pixel(floor)
                svg.line(x1: frame.left, y1: level, x2: frame.right, y2: level, stroke: ChartFrame.Palette.ink, width: 1, dash: "1 3")
                svg.text("ε∞ = \(ScalingLawFit.percent(floor)) (\(fit.form == .powerLawWithFloor ? "fitted" : "given"))", x: frame.right - 4, y: level + 14, anchor: .end, size: 11)
            }
        }
        document.group("target", name: "target") { svg in
            let level = y.pixel(projection.targetError)
            let at = x.pixel(projection.flops)
            let from = x.clampedPixel(projection.flopsLower ?? x.lower)
            let to = x.clampedPixel(projection.flopsUpper ?? x.upper)
            svg.rect(x: from, y: frame.top, width: to - from, height: frame.bottom - frame.top, fill: ChartFrame.Palette.accent, opacity: 0.08)
            svg.line(x1: frame.left, y1: level, x2: frame.right, y2: level, stroke: ChartFrame.Palette.accent, width: 1.5, dash: "6 4")
            svg.line(x1: at, y1: frame.top, x2: at, y2: frame.bottom, stroke: ChartFrame.Palette.accent, width: 1.5, dash: "6 4")
            svg.circle(x: at, y: level, radius: 5, fill: ChartFrame.Palette.accent)
            let bounds = "95 %: \(projection.flopsLower.map { SignificantFigures.string($0, 2) } ?? "unbounded") to "
                + "\(projection.flopsUpper.map { SignificantFigures.string($0, 2) } ?? "unbounded")"
            let text = "target \(ScalingLawFit.percent(projection.targetError)): \(SignificantFigures.string(projection.flops, 2)) FLOP (\(bounds))"
            let rightward = at < (frame.left + frame.right) / 2
            svg.text(text, x: rightward ? at + 6 : at - 6, y: frame.top + 14, anchor: rightward ? .start : .end, size: 11, fill: ChartFrame.Palette.accent)
        }
        let measured = points.filter { $0.source.hasPrefix("job ") }
        let specified = points.filter { !$0.source.hasPrefix("job ") }
        for (name, group, fill) in [("measured", measured, ChartFrame.Palette.series(0)), ("spec", specified, "white")] where !group.isEmpty {
            document.group("series", name: "points \(name)") { svg in
                for point in group {
                    let (px, py) = pixelPoint(point.flops, point.error)
                    svg.circle(x: px, y: py, radius: 4.5, fill: fill, stroke: ChartFrame.Palette.ink)
                }
            }
        }
        var legend: [(label: String, swatch: ChartFrame.Swatch)] = []
        if !measured.isEmpty { legend.append(("jobs measured here (\(measured.count))", .marker(ChartFrame.Palette.series(0)))) }
        if !specified.isEmpty { legend.append(("spec files (\(specified.count))", .marker("white"))) }
        legend.append(("fit (\(fit.form == .powerLaw ? "power law" : "power law + floor"))", .line(ChartFrame.Palette.series(1), dash: nil)))
        if !band.isEmpty { legend.append(("95 % prediction band", .area("#a8cdd2"))) }
        legend.append(("target and its compute (95 % interval shaded)", .line(ChartFrame.Palette.accent, dash: "6 4")))
        frame.legend(&document, legend)
        return document.text
    }
}
