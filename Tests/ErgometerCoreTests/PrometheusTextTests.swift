import ErgometerCore
import Testing

/// The exposition writer: escaping, number spelling, histograms, and the energy floor that
/// keeps RAPL's resolution off the network.
struct PrometheusTextTests {
    func text(_ build: (inout PrometheusTextWriter) -> Void) -> String {
        var writer = PrometheusTextWriter()
        build(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func labelValuesAndHelpAreEscaped() {
        let out = text {
            $0.family("x_total", type: .counter, help: "a \\ b\nc \"quoted\"")
            $0.sample("x_total", labels: ["job_name": "say \"hi\"\\n\nnext", "user": "zoë"], value: 2)
        }
        #expect(out == """
            # HELP x_total a \\\\ b\\nc "quoted"
            # TYPE x_total counter
            x_total{job_name="say \\"hi\\"\\\\n\\nnext",user="zoë"} 2

            """)
    }

    @Test(arguments: [
        (0.0, "0"), (5.0, "5"), (-3.0, "-3"), (12.345, "12.345"), (0.001, "0.001"), (1e20, "1e+20"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"),
    ])
    func valuesAreSpelledAsTheFormatReadsThem(value: Double, spelled: String) {
        #expect(PrometheusTextWriter.format(value) == spelled)
        if value.isFinite { #expect(Double(spelled) == value) }
    }

    @Test func histogramBucketsAreCumulativeAndInfCountsEverything() {
        var histogram = Histogram(upperBounds: [0.1, 1])
        for value in [0.05, 0.1, 0.5, 3, 7] { histogram.observe(value) }
        let out = text { $0.histogram("t_seconds", histogram) }
        #expect(out == """
            t_seconds_bucket{le="0.1"} 2
            t_seconds_bucket{le="1"} 3
            t_seconds_bucket{le="+Inf"} 5
            t_seconds_sum 10.65
            t_seconds_count 5

            """)
        #expect(histogram.quantileUpperBound(0.5) == 1)
        #expect(histogram.quantileUpperBound(0.99) == nil, "above the last bound")
    }

    @Test func energyIsFlooredToOneMillijouleAtTheFinest() {
        #expect(EnergyResolution(joules: 0.000001).microjoules == 1000, "finer than 1 mJ is not allowed")
        #expect(EnergyResolution(joules: .nan).microjoules == 1000)
        let millijoule = EnergyResolution(joules: 0.001)
        #expect(millijoule.coarsen(123_456_789) == 123_456_000)
        let joule = EnergyResolution(joules: 1)
        #expect(joule.coarsen(123_456_789) == 123_000_000)
        // Flooring keeps a counter monotonic.
        var last: UInt64 = 0
        for value in stride(from: UInt64(0), to: 5_000_000, by: 777) {
            let floored = joule.coarsen(value)
            #expect(floored >= last && floored <= value)
            last = floored
        }
    }

    @Test func duplicateSensorNamesStayDistinctSeries() {
        var snapshot = MetricsSnapshot(version: "test")
        snapshot.temperatures = [
            TemperatureReading(chip: "nvme-pci-0100", sensor: "Composite", celsius: 40, feature: "temp1", reader: "sysfs"),
            TemperatureReading(chip: "nvme-pci-0100", sensor: "Composite", celsius: 41, feature: "temp2", reader: "sysfs"),
        ]
        let out = String(decoding: MetricsExposition.render(snapshot), as: UTF8.self)
        #expect(out.contains("ergometer_temperature_celsius{chip=\"nvme-pci-0100\",sensor=\"Composite\"} 40\n"))
        #expect(out.contains("ergometer_temperature_celsius{chip=\"nvme-pci-0100\",sensor=\"Composite (temp2)\"} 41\n"))
    }
}
