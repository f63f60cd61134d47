/// Learns idle power as a low percentile of observed host power, for machines where it is not
/// configured. Keeps a fixed-size histogram (1 W buckets up to 4 kW), so memory and cost per
/// observation are constant however long the daemon runs.
public struct IdlePowerLearner: Sendable, Equatable {
    /// Which percentile of observed power counts as idle (5th by default: the box is rarely
    /// completely idle, and the minimum is too sensitive to one odd reading).
    public var percentile: Double
    private var counts: [UInt32]
    public private(set) var observations: Int = 0

    public static let bucketWatts = 1.0
    public static let maximumWatts = 4000.0

    public init(percentile: Double = 0.05) {
        precondition((0...1).contains(percentile), "percentile is a fraction")
        self.percentile = percentile
        counts = [UInt32](repeating: 0, count: Int(Self.maximumWatts / Self.bucketWatts) + 1)
    }

    public mutating func observe(watts: Double) {
        guard watts.isFinite, watts >= 0 else { return }
        let bucket = min(Int(watts / Self.bucketWatts), counts.count - 1)
        counts[bucket] &+= 1
        observations += 1
    }

    /// The learned idle power, or nil before `minimumObservations` readings.
    public func idleWatts(minimumObservations: Int = 30) -> Double? {
        guard observations >= max(minimumObservations, 1) else { return nil }
        let target = Int((Double(observations) * percentile).rounded(.up))
        var seen = 0
        for (bucket, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= max(target, 1) { return Double(bucket) * Self.bucketWatts }
        }
        return nil
    }
}
