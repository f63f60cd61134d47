/// A rate that may change over time: carbon intensity (gCO2e/kWh) or electricity price (per
/// kWh). Static, or a step series where each point's value holds from its timestamp until the
/// next point (before the first point the first value holds, after the last the last).
public enum RateSchedule: Equatable, Sendable {
    case constant(Double)
    /// Points sorted by time (Unix seconds), at least one.
    case series([RatePoint])

    /// The time-weighted mean of the rate over [start, end] (Unix seconds); the value at `start`
    /// when the interval is empty. A tick's CO2 uses this, so it reflects when the job ran.
    public func average(from start: Double, to end: Double) -> Double {
        switch self {
        case .constant(let value):
            return value
        case .series(let points):
            guard end > start else { return value(at: start) }
            // Segment i holds points[i].value over [points[i].time, points[i+1].time); the first
            // also extends back to -∞ and the last forward to +∞.
            var weighted = 0.0
            var index = Self.segment(containing: start, in: points)
            while index < points.count {
                let segmentStart = index == 0 ? -Double.infinity : points[index].time
                let segmentEnd = index + 1 < points.count ? points[index + 1].time : Double.infinity
                let overlap = min(end, segmentEnd) - max(start, segmentStart)
                if overlap > 0 { weighted += points[index].value * overlap }
                if segmentEnd >= end { break }
                index += 1
            }
            return weighted / (end - start)
        }
    }

    /// Index of the segment in force at `time` (binary search: a year of hourly points is 8760).
    static func segment(containing time: Double, in points: [RatePoint]) -> Int {
        var low = 0
        var high = points.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if points[middle].time <= time { low = middle } else { high = middle - 1 }
        }
        return low
    }

    /// The rate in force at a time.
    public func value(at time: Double) -> Double {
        switch self {
        case .constant(let value): return value
        case .series(let points): return points[Self.segment(containing: time, in: points)].value
        }
    }
}

/// One point of a rate series.
public struct RatePoint: Equatable, Sendable {
    /// Unix seconds.
    public var time: Double
    public var value: Double

    public init(time: Double, value: Double) {
        self.time = time
        self.value = value
    }
}

/// Converts energy to emissions and cost:
///
///     kWh   = J / 3.6e6
///     gCO2e = kWh × intensity (g/kWh) × PUE
///     cost  = kWh × price per kWh × PUE
///
/// Defaults: 475 g/kWh (IEA 2019 world average, CodeCarbon's default too) and PUE 1.0. Reports
/// print the figures used, since other tools' defaults differ.
public struct CarbonAccounting: Equatable, Sendable {
    public static let defaultIntensityGramsPerKWh = 475.0

    public var intensity: RateSchedule
    public var pue: Double
    public var price: RateSchedule?
    /// ISO 4217 code of the price, e.g. `EUR`.
    public var currency: String

    public init(
        intensity: RateSchedule = .constant(defaultIntensityGramsPerKWh), pue: Double = 1.0, price: RateSchedule? = nil,
        currency: String = "USD"
    ) {
        self.intensity = intensity
        self.pue = pue
        self.price = price
        self.currency = currency
    }

    public static func kilowattHours(joules: Double) -> Double { joules / 3.6e6 }

    /// gCO2e of `joules` used between `start` and `end` (Unix seconds).
    /// One tick's rates, worked out once and applied to every job's energy of that tick.
    public struct TickFactors: Sendable {
        /// Average grid intensity over the tick, g/kWh.
        public var intensity: Double
        public var gramsPerJoule: Double
        public var costPerJoule: Double?
        public var currency: String?
        public var pue: Double
    }

    /// The tick's factors: grams = joules × gramsPerJoule, exactly `grams(joules:from:to:)`.
    public func factors(from start: Double, to end: Double) -> TickFactors {
        let intensity = self.intensity.average(from: start, to: end)
        return TickFactors(
            intensity: intensity, gramsPerJoule: Self.kilowattHours(joules: 1) * intensity * pue,
            costPerJoule: price.map { Self.kilowattHours(joules: 1) * $0.average(from: start, to: end) * pue },
            currency: price == nil ? nil : currency, pue: pue)
    }

    public func grams(joules: Double, from start: Double, to end: Double) -> Double {
        Self.kilowattHours(joules: joules) * intensity.average(from: start, to: end) * pue
    }

    /// Cost of `joules` used between `start` and `end`; nil without a price.
    public func cost(joules: Double, from start: Double, to end: Double) -> Double? {
        price.map { Self.kilowattHours(joules: joules) * $0.average(from: start, to: end) * pue }
    }
}
