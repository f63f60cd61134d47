import ErgometerCore
import ErgometerTestSupport
import Foundation
import Testing

/// The scaling-law fit and projection: parameters recovered from points drawn from a known law,
/// intervals that cover the truth at their nominal rate, and costs that follow from the FLOPs.
struct ScalingLawTests {
    /// log10 of `count` compute figures spread evenly over [from, to] (log10 FLOP).
    static func logFlops(_ count: Int, from: Double, to: Double) -> [Double] {
        (0..<count).map { from + (to - from) * Double($0) / Double(count - 1) }
    }

    /// Points on ε = floor + 10^intercept · F^slope, each error times 10^(σ·z).
    static func points(
        slope: Double, intercept: Double, floor: Double = 0, logFlops: [Double], noise: Double = 0, random: inout SplitMix64
    ) -> [ScalingPoint] {
        logFlops.enumerated().map { index, x in
            let error = (floor + pow(10, intercept + slope * x)) * pow(10, noise * random.gaussian())
            return ScalingPoint(name: "p\(index)", source: "point \(index)", flops: pow(10, x), error: error, basis: .declared)
        }
    }

    /// The band the projection chart draws and the interval `ergo project` prints are two
    /// formulas: at the compute where the inverse interval ends, the band's edge is the target.
    @Test func thePredictionBandMeetsTheTargetAtTheInverseIntervalsEnds() throws {
        let x = [8.0, 9, 10, 11, 12, 13]
        let y = [-0.52, -0.74, -0.81, -1.05, -1.13, -1.38]
        let line = try #require(LinearFit.leastSquares(x: x, y: y))
        let target = -1.6
        let inverse = try #require(line.inversePrediction(target))
        let lower = try #require(inverse.lower)
        let upper = try #require(inverse.upper)
        // Error falls with compute: at the interval's low end the band's lower edge reaches the
        // target, at its high end the upper edge does.
        #expect(abs(try #require(line.predictionInterval(lower)).lowerBound - target) < 1e-9)
        #expect(abs(try #require(line.predictionInterval(upper)).upperBound - target) < 1e-9)
        let middle = try #require(line.predictionInterval(inverse.estimate))
        #expect(abs((middle.lowerBound + middle.upperBound) / 2 - target) < 1e-9)
        #expect(LinearFit.leastSquares(x: [1, 2], y: [1, 2])?.predictionInterval(1.5) == nil, "no residual degrees of freedom")
    }

    @Test func studentTQuantilesMatchTheTables() {
        for (df, expected) in [(1.0, 12.7062), (2, 4.3027), (3, 3.1824), (5, 2.5706), (10, 2.2281), (30, 2.0423), (1000, 1.9623)] {
            let t = StudentT.quantile(0.975, degreesOfFreedom: df)
            #expect(abs(t - expected) < 5e-4, "df \(df): \(t), tables \(expected)")
            #expect(abs(StudentT.cdf(t, degreesOfFreedom: df) - 0.975) < 1e-12)
            #expect(abs(StudentT.cdf(-t, degreesOfFreedom: df) - 0.025) < 1e-12)
        }
        #expect(abs(StudentT.quantile(0.95, degreesOfFreedom: 4) - 2.1318) < 5e-4)
    }

    @Test(arguments: [4.0, 9.0])
    func aNoiselessLawIsRecoveredExactly(k: Double) throws {
        var random = SplitMix64(seed: 1)
        let points = Self.points(slope: -1 / k, intercept: 1.2, logFlops: Self.logFlops(6, from: 15, to: 24), random: &random)
        let fit = try ScalingLaw.fit(points, irreducibleError: .none).fit
        #expect(fit.form == .powerLaw)
        #expect(abs(fit.kExponent - k) < 1e-9)
        #expect(abs(fit.halvingMultiplier - pow(2, k)) / pow(2, k) < 1e-9)
        #expect(abs(fit.intercept - 1.2) < 1e-9)
        #expect(fit.line.rSquared > 1 - 1e-12)
        // Halving the error from the last point costs 2^k its compute.
        let last = points.last!
        let halved = try fit.flops(toReach: last.error / 2)
        #expect(abs(halved.flops / last.flops / pow(2, k) - 1) < 1e-9)
    }

    @Test(arguments: [4.0, 9.0])
    func aNoisyLawIsRecoveredWithinItsInterval(k: Double) throws {
        var random = SplitMix64(seed: 7)
        // 12 points over 8 decades, each error off by about 5 % (σ 0.02 in log10).
        let points = Self.points(slope: -1 / k, intercept: 1.2, logFlops: Self.logFlops(12, from: 14, to: 22), noise: 0.02, random: &random)
        let fit = try ScalingLaw.fit(points, irreducibleError: .none).fit
        let interval = try #require(fit.slopeInterval)
        #expect(interval.contains(-1 / k), "slope interval \(interval) misses \(-1 / k)")
        #expect(abs(fit.slope + 1 / k) < 0.01, "slope \(fit.slope), truth \(-1 / k)")
        #expect(abs(fit.kExponent - k) / k < 0.1, "k \(fit.kExponent), truth \(k)")
        #expect(fit.line.rSquared > 0.9)
    }

    @Test func aLawWithAFloorIsRecovered() throws {
        var random = SplitMix64(seed: 3)
        let x = Self.logFlops(8, from: 8, to: 12)
        let exact = Self.points(slope: -0.3, intercept: 2.0, floor: 0.0875, logFlops: x, random: &random)
        let (fit, powerLaw) = try ScalingLaw.fit(exact, irreducibleError: .fitted)
        #expect(fit.form == .powerLawWithFloor)
        let floor = try #require(fit.irreducibleError)
        #expect(abs(floor - 0.0875) < 1e-6, "floor \(floor)")
        #expect(abs(fit.slope + 0.3) < 1e-4)
        #expect(fit.aic < powerLaw.aic, "the floor's fit \(fit.aic) should beat the plain power law's \(powerLaw.aic)")

        // With 1 % noise on each error the floor is still found within a percentage point.
        let noisy = Self.points(slope: -0.3, intercept: 2.0, floor: 0.0875, logFlops: x, noise: 0.004, random: &random)
        let noisyFit = try ScalingLaw.fit(noisy, irreducibleError: .fitted).fit
        #expect(abs(try #require(noisyFit.irreducibleError) - 0.0875) < 0.01, "floor \(noisyFit.irreducibleError ?? -1)")
        #expect(noisyFit.line.degreesOfFreedom == 8 - 3)

        // Given, the floor is used as is: the line is exact again.
        let given = try ScalingLaw.fit(exact, irreducibleError: .given(0.0875)).fit
        #expect(given.irreducibleError == 0.0875)
        #expect(abs(given.slope + 0.3) < 1e-9)
        #expect(given.line.degreesOfFreedom == 8 - 2)
    }

    @Test func onAPlainPowerLawTheFloorDoesNotFitBetter() throws {
        var random = SplitMix64(seed: 11)
        var plainBetter = 0
        for _ in 0..<50 {
            let points = Self.points(slope: -1 / 9, intercept: 1.2, logFlops: Self.logFlops(8, from: 14, to: 22), noise: 0.02, random: &random)
            let (fit, powerLaw) = try ScalingLaw.fit(points, irreducibleError: .fitted)
            if powerLaw.aic <= fit.aic { plainBetter += 1 }
        }
        #expect(plainBetter >= 35, "the plain power law fitted better in only \(plainBetter) of 50 sets drawn from it")
    }

    @Test func theSlopeIntervalCoversTheTruthAtItsNominalRate() throws {
        var random = SplitMix64(seed: 2026)
        let trials = 2000
        var covered = 0
        for _ in 0..<trials {
            let points = Self.points(slope: -0.25, intercept: 1, logFlops: Self.logFlops(6, from: 10, to: 16), noise: 0.05, random: &random)
            if try #require(try ScalingLaw.fit(points, irreducibleError: .none).fit.slopeInterval).contains(-0.25) { covered += 1 }
        }
        let rate = Double(covered) / Double(trials)
        #expect(abs(rate - 0.95) < 0.02, "the 95 % slope interval covered the truth in \(rate) of \(trials) trials")
    }

    /// The prediction interval of the compute for a target: a run at compute F0 observed at
    /// error ε0 should find F0 inside the interval projected for ε0, 95 % of the time.
    @Test func thePredictionIntervalCoversANewRunAtItsNominalRate() throws {
        var random = SplitMix64(seed: 17)
        let trials = 2000
        var covered = 0
        for _ in 0..<trials {
            let points = Self.points(slope: -1 / 9, intercept: 1.2, logFlops: Self.logFlops(8, from: 14, to: 22), noise: 0.02, random: &random)
            let fit = try ScalingLaw.fit(points, irreducibleError: .none).fit
            let x0 = 23.0
            let observed = pow(10, 1.2 - x0 / 9 + 0.02 * random.gaussian())
            let projected = try fit.flops(toReach: observed)
            if (projected.lower.map { $0 <= pow(10, x0) } ?? true) && (projected.upper.map { $0 >= pow(10, x0) } ?? true) { covered += 1 }
        }
        let rate = Double(covered) / Double(trials)
        #expect(abs(rate - 0.95) < 0.02, "the 95 % prediction interval covered the new run in \(rate) of \(trials) trials")
    }

    @Test func theProjectionsCostsFollowFromItsFLOPs() throws {
        var random = SplitMix64(seed: 5)
        let points = Self.points(slope: -1 / 9, intercept: 1.5, logFlops: Self.logFlops(5, from: 15, to: 20), noise: 0.01, random: &random)
        let fit = try ScalingLaw.fit(points, irreducibleError: .none).fit
        let carbon = CarbonAccounting(
            intensity: .series([RatePoint(time: 0, value: 300), RatePoint(time: 3600, value: 500), RatePoint(time: 7200, value: 100)]),
            pue: 1.25, price: .constant(0.3), currency: "EUR")
        let perFlop = ScalingProjection.EnergyPerFlop(joules: 2.5e-10, basis: "job 4", source: "rapl")
        let projection = try ScalingProjection.project(fit, targetError: 0.05, energyPerFlop: perFlop, carbon: carbon, flopsPerSecondOnThisBox: 4e10)
        #expect(projection.flops == (try fit.flops(toReach: 0.05)).flops)
        #expect(projection.energyJoules == projection.flops * 2.5e-10)
        #expect(projection.energyKWh == projection.energyJoules! / 3.6e6)
        // The series' time-weighted mean over its span is 400 g/kWh.
        #expect(projection.carbonIntensityGramsPerKWh == 400)
        #expect(projection.co2Grams == projection.energyKWh! * 400 * 1.25)
        #expect(projection.cost == projection.energyKWh! * 0.3 * 1.25)
        #expect(projection.currency == "EUR")
        #expect(projection.secondsOnThisBox == projection.flops / 4e10)
        let lower = try #require(projection.flopsLower)
        let upper = try #require(projection.flopsUpper)
        #expect(lower < projection.flops && projection.flops < upper)

        let unknown = try ScalingProjection.project(fit, targetError: 0.05, energyPerFlop: nil, carbon: CarbonAccounting(), flopsPerSecondOnThisBox: nil)
        #expect(unknown.energyJoules == nil && unknown.co2Grams == nil && unknown.cost == nil && unknown.currency == nil)
        #expect(unknown.secondsOnThisBox == nil)
    }

    @Test func theSentenceSaysWhatHalvingCostsAndWhatTheTargetWouldTake() throws {
        var random = SplitMix64(seed: 1)
        let points = Self.points(slope: -1 / 9, intercept: log10(0.4) + 18.0 / 9, logFlops: [18, 20, 22], random: &random)
        let fit = try ScalingLaw.fit(points, irreducibleError: .none).fit
        let projection = try ScalingProjection.project(
            fit, targetError: 0.05, energyPerFlop: .init(joules: 1e-9, basis: "job 1", source: "model"), carbon: CarbonAccounting(),
            flopsPerSecondOnThisBox: 1e11)
        // 0.4 at 1e18 FLOP: an 8-fold drop to 5 % costs 8^9 = 1.3e8 times the compute.
        #expect(abs(projection.flops / (1e18 * pow(8, 9)) - 1) < 1e-9)
        #expect(
            projection.sentence(fit)
                == "halving the error costs 512× the compute here (k = 9.0); 5 % would take 1.3e26 FLOP ≈ 3.7e10 kWh ≈ 1.8e7 t CO2 ≈ 4.3e7 years on this box")
    }

    @Test func badPointsAreRefusedByName() throws {
        func refusal(_ points: [ScalingPoint], _ floor: IrreducibleError = .none) -> String {
            do {
                _ = try ScalingLaw.fit(points, irreducibleError: floor)
                return "fitted"
            } catch { return error.description }
        }
        func point(_ name: String, _ flops: Double, _ error: Double) -> ScalingPoint {
            ScalingPoint(name: name, source: "job \(name)", flops: flops, error: error, basis: .reported)
        }
        #expect(refusal([point("1", 1e9, 0.3), point("2", 1e10, 0.2)]).contains("at least 3 jobs with distinct compute; 2 were given"))
        #expect(refusal([point("1", 1e9, 0.3), point("2", 1e9, 0.2), point("3", 1e9, 0.25)]).contains("all 3 jobs used the same compute (1.00e9 FLOP)"))
        #expect(refusal([point("1", 1e9, 0.3), point("2", 1e10, 0.2), point("3", 1e10, 0.25)]).contains("only 2 distinct compute figures"))
        #expect(refusal([point("1", 1e9, 30), point("2", 1e10, 0.2), point("3", 1e11, 0.1)]).contains("job 1 (1): its error 30.0 is not a fraction in (0, 1); if it is a percentage, give 0.3"))
        #expect(refusal([point("1", 1e9, 0.3), point("2", 1e10, 0.2), point("3", 1e11, 0.1)], .fitted).contains("at least 4 jobs"))
        #expect(refusal([point("1", 1e9, 0.3), point("2", 1e10, 0.2), point("3", 1e11, 0.1)], .given(0.15)).contains("job 3 (3) reached 10 %, at or below the irreducible error given, 15 %"))

        let rising = try ScalingLaw.fit([point("1", 1e9, 0.1), point("2", 1e10, 0.2), point("3", 1e11, 0.3)], irreducibleError: .none).fit
        #expect(throws: ScalingLawError.self) { try rising.flops(toReach: 0.05) }
        do { _ = try rising.flops(toReach: 0.05) } catch { #expect(error.description.contains("error does not fall with compute over these 3 points")) }

        var random = SplitMix64(seed: 3)
        let floored = try ScalingLaw.fit(Self.points(slope: -0.3, intercept: 2, floor: 0.0875, logFlops: Self.logFlops(6, from: 8, to: 12), random: &random), irreducibleError: .fitted).fit
        do {
            _ = try floored.flops(toReach: 0.05)
            Issue.record("a target under the floor was projected")
        } catch {
            #expect(error.description.contains("the target error 5 % is at or below the irreducible error the fit has, 8.75 %"), "\(error.description)")
        }
    }

    @Test func numbersReadAsPeopleWriteThem() {
        #expect(SignificantFigures.string(512) == "512")
        #expect(SignificantFigures.string(9.04) == "9.0")
        #expect(SignificantFigures.string(0.042) == "0.042")
        #expect(SignificantFigures.string(2.63e12) == "2.6e12")
        #expect(SignificantFigures.string(9.96) == "10")
        #expect(SignificantFigures.string(99_999) == "1.0e5")
        #expect(SignificantFigures.string(1.04e-7) == "1.0e-7")
        #expect(SignificantFigures.string(-3.3e8, 3) == "-3.30e8")
        #expect(ScalingProjection.duration(90) == "90 s")
        #expect(ScalingProjection.duration(7200) == "2.0 h")
        #expect(ScalingProjection.duration(3 * 86_400) == "3.0 days")
        #expect(ScalingProjection.duration(1e17) == "3.2e9 years")
        #expect(ScalingProjection.mass(1.8e13) == "1.8e7 t")
        #expect(ScalingProjection.mass(420) == "420 g")
        #expect(ScalingLawFit.percent(0.0875) == "8.75 %")
        #expect(ScalingLawFit.percent(0.05) == "5 %")
        #expect(ScalingLawFit.percent(0.173) == "17.3 %")
    }
}

extension SplitMix64 {
    /// A standard normal draw (Box–Muller).
    mutating func gaussian() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
