import ErgometerCore
import Testing

struct CarbonTests {
    @Test func staticIntensityAndPUE() {
        let carbon = CarbonAccounting(intensity: .constant(475), pue: 1.58)
        // 3.6 MJ = 1 kWh
        #expect(carbon.grams(joules: 3_600_000, from: 0, to: 10) == 475 * 1.58)
        #expect(carbon.cost(joules: 3_600_000, from: 0, to: 10) == nil)
    }

    @Test func seriesIsIntegratedOverTheTick() throws {
        let series = try RateScheduleCSV.parse("timestamp,grams_per_kwh\n100,200\n110,400\n")
        #expect(series.average(from: 90, to: 100) == 200)  // before the first point: the first value
        #expect(series.average(from: 105, to: 115) == 300)  // half at 200, half at 400
        #expect(series.average(from: 120, to: 130) == 400)  // after the last: the last value
        #expect(series.value(at: 109.9) == 200)
        let carbon = CarbonAccounting(intensity: series, pue: 1, price: .constant(0.25))
        #expect(carbon.grams(joules: 3_600_000, from: 105, to: 115) == 300)
        #expect(carbon.cost(joules: 7_200_000, from: 0, to: 1) == 0.5)
    }

    @Test func isoTimestamps() throws {
        let series = try RateScheduleCSV.parse("2026-11-28T06:00:00Z,120\n2026-11-28T07:00:00.5Z,80\n")
        guard case .series(let points) = series else { Issue.record("not a series"); return }
        #expect(points.map(\.time) == [1_795_845_600, 1_795_849_200.5])
    }

    @Test(arguments: [
        ("", "line 0: no data lines"),
        ("100,1,2\n", "line 1: expected 2 fields `timestamp,value`, found 3"),
        ("100,10\nyesterday,5\n", "line 2: timestamp \"yesterday\" is neither Unix seconds nor UTC ISO 8601 (2026-11-28T06:00:00Z)"),
        ("100,-4\n", "line 1: value \"-4\" is not a non-negative number"),
        ("100,4\n100,5\n", "line 2: timestamps must increase (this one is not after line 1's)"),
        ("2026-11-28T06:00:00+02:00,4\n", "line 1: timestamp \"2026-11-28T06:00:00+02:00\" is neither Unix seconds nor UTC ISO 8601 (2026-11-28T06:00:00Z)"),
        // Found by ergometer-fuzz: the integral over a window overflowed to infinity.
        ("100,4\n1e300,5\n", "line 2: timestamp \"1e300\" is not between 1970 and the year 9999"),
        ("-5,4\n", "line 1: timestamp \"-5\" is not between 1970 and the year 9999"),
        ("100,1e300\n", "line 1: value 1e300 is above 10⁹: no grams per kWh nor price per kWh is that large"),
    ])
    func badCSVNamesTheLineAndTheProblem(text: String, message: String) {
        #expect(throws: RateScheduleCSV.ParseError.self) { try RateScheduleCSV.parse(text) }
        do { _ = try RateScheduleCSV.parse(text) } catch { #expect(error.description == message) }
    }

    @Test func idleLearnerTakesALowPercentile() {
        var learner = IdlePowerLearner()
        for watts in [12.0, 13, 14, 40, 80, 95] { learner.observe(watts: watts) }
        #expect(learner.idleWatts() == nil)  // not enough readings yet
        for index in 0..<100 { learner.observe(watts: 30 + Double(index % 50)) }
        learner.observe(watts: .nan)
        #expect(learner.observations == 106)
        #expect(learner.idleWatts() == 31)  // 5th percentile of 106 readings: the 6th lowest of 12, 13, 14, 30, 30, 31, ...
    }
}
