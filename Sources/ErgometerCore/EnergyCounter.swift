/// What happened to a cumulative energy counter between two readings.
///
/// RAPL `energy_uj` counts up from an arbitrary value and wraps to zero after
/// `max_energy_range_uj`. A reading below the previous one is a wrap (DESIGN.md):
///
///     delta = current + max_energy_range_uj − previous
///
/// A wrap can only be told from a reset when the implied energy is plausible; after a reboot
/// (`boot_id` changed) the two readings share nothing and are never subtracted.
public enum EnergyCounterDelta: Equatable, Sendable {
    /// The counter moved forward by this many microjoules without wrapping.
    case advanced(microjoules: UInt64)
    /// The counter passed its maximum once; the energy includes the part up to the wrap.
    case wrapped(microjoules: UInt64)
    /// The two readings cannot be subtracted: the energy of this interval is unknown.
    case reset(EnergyCounterReset)

    /// The measured energy, or nil when the interval's energy is unknown.
    public var microjoules: UInt64? {
        switch self {
        case .advanced(let microjoules), .wrapped(let microjoules): microjoules
        case .reset: nil
        }
    }
}

/// Why two counter readings could not be subtracted.
public enum EnergyCounterReset: String, Equatable, Sendable {
    /// `/proc/sys/kernel/random/boot_id` changed between the readings.
    case reboot
    /// The counter went backwards and no wrap explains it (no known range, a reading above
    /// the range, or more energy than the zone could have used in the interval).
    case backwards
}

/// One reading of a cumulative energy counter, with what is needed to subtract it from the next.
public struct EnergyCounterReading: Equatable, Sendable {
    public var microjoules: UInt64
    /// `max_energy_range_uj`: the value after which the counter wraps to zero; nil when unknown.
    public var maxRangeMicrojoules: UInt64?
    /// The boot the reading was taken in.
    public var bootID: String

    public init(microjoules: UInt64, maxRangeMicrojoules: UInt64?, bootID: String) {
        self.microjoules = microjoules
        self.maxRangeMicrojoules = maxRangeMicrojoules
        self.bootID = bootID
    }

    /// Highest power one RAPL zone is believed able to draw: a wrap implying more in the interval
    /// is a reset instead. One rule for ergod and `ergo probe`.
    public static let plausibleZoneWatts = 4000.0

    /// The energy used between `previous` and `self`, `seconds` apart: a wrap implying more than
    /// `plausibleZoneWatts` over the interval is a reset.
    public func delta(since previous: EnergyCounterReading, overSeconds seconds: Double) -> EnergyCounterDelta {
        delta(since: previous, ceilingMicrojoules: UInt64(Self.plausibleZoneWatts * max(seconds, 0.001) * 1e6))
    }

    /// The energy used between `previous` and `self`.
    ///
    /// - Parameter ceilingMicrojoules: the most energy the zone could plausibly have used in the
    ///   interval (maximum power × interval). A wrap implying more than this is a reset instead.
    public func delta(since previous: EnergyCounterReading, ceilingMicrojoules: UInt64? = nil)
        -> EnergyCounterDelta
    {
        guard previous.bootID == bootID else { return .reset(.reboot) }
        if microjoules >= previous.microjoules {
            return .advanced(microjoules: microjoules - previous.microjoules)
        }
        guard let range = maxRangeMicrojoules ?? previous.maxRangeMicrojoules,
            previous.microjoules <= range, microjoules <= range
        else { return .reset(.backwards) }
        let wrapped = range - previous.microjoules + microjoules
        if let ceilingMicrojoules, wrapped > ceilingMicrojoules {
            return .reset(.backwards)
        }
        return .wrapped(microjoules: wrapped)
    }
}
