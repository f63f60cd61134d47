public import ErgometerCore

/// What a meter needs to know about the tick it measures.
public struct MeterTick: Sendable {
    /// Seconds since the last tick (monotonic clock) and the same in nanoseconds.
    public var seconds: Double
    public var nanoseconds: UInt64
    /// Busy share of all CPUs over the tick, for the power model.
    public var busyRatio: Double
    /// The boot the readings are taken in: counters are never subtracted across boots.
    public var bootID: String
    /// CLOCK_MONOTONIC now.
    public var now: UInt64

    public init(seconds: Double, nanoseconds: UInt64, busyRatio: Double, bootID: String, now: UInt64) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.busyRatio = busyRatio
        self.bootID = bootID
        self.now = now
    }
}

/// The seam between the sampler and the sources of energy (DESIGN.md, "Meters, domains and the
/// ledger"): a meter owns domains and, each tick, returns each domain's energy since the last
/// tick in integer µJ with its source. The sampler knows this protocol, not the sources.
public protocol EnergyMeter: Sendable {
    /// The domains this meter owns, in the order `measure` fills them.
    var domains: [EnergyDomain] { get }
    /// Reads every counter now (the baseline of the first `measure`).
    mutating func prime(bootID: String)
    /// Writes each domain's energy since the last tick into `readings[offset...]`.
    mutating func measure(_ tick: MeterTick, into readings: inout [DomainEnergy], at offset: Int)
    /// Why the last tick was not fully measured (a file unreadable, a counter reset), or nil.
    var problem: String? { get }
    /// Counter readings to save at a checkpoint (keys unique to this meter), and their restore
    /// (same boot only), so that the tick after a restart covers the whole gap.
    var savedReadings: [String: UInt64] { get }
    mutating func restore(_ readings: [String: UInt64], bootID: String)
}
