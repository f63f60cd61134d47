public import ErgometerCore

/// A RAPL zone found in the powercap tree, with its files' paths worked out once so that the
/// sampler's tick only opens and reads `energy_uj`.
public struct PowercapZone: Sendable, Equatable {
    public var id: PowercapZoneID
    public var name: String
    public var domain: RaplDomain
    public var socket: Int?
    /// The zone's entry in `class/powercap`, as shown to people.
    public var path: String
    /// The zone directory its files are read from (after following a captured link).
    public var directory: String
    public var energyPath: String
    public var maxEnergyRangeMicrojoules: UInt64?

    /// Reads `energy_uj` now.
    public func readEnergy() -> Result<UInt64, FileReadError> {
        SysfsFile.readUInt64(energyPath)
    }
}

/// Reads the RAPL zones of `class/powercap` (kernel docs: Documentation/power/powercap/powercap.rst).
///
/// A zone is an entry of the form `<control-type>:<hex id>[:<hex id>]` that has a `name` file,
/// as node_exporter and prometheus/procfs decide. Zone indices are not package ids; the socket
/// comes from `package-N` in `name`, and subzones take their package's socket.
public struct PowercapReader: Sendable {
    public var sysfs: SysFS

    public init(sysfs: SysFS) {
        self.sysfs = sysfs
    }

    /// Finds the zones and reads each one's range. Problems become issues; the rest still reads.
    public func discover() -> (zones: [PowercapZone], issues: [ProbeIssue]) {
        let base = sysfs.path("class/powercap")
        let names: [String]
        switch Directory.entries(base) {
        case .success(let entries): names = entries
        case .failure(let error): return ([], [ProbeIssueMessages.noPowercap(error)])
        }
        var zones: [PowercapZone] = []
        var issues: [ProbeIssue] = []
        for entry in names {
            guard let id = PowercapZoneID(directoryName: entry) else { continue }
            let link = FilePath.join(base, entry)
            guard let directory = Directory.resolve(link).directory else {
                issues.append(ProbeIssue(path: link, message: "zone link leads nowhere; zone skipped"))
                continue
            }
            let name: String
            switch SysfsFile.readLine(FilePath.join(directory, "name")) {
            case .success(let value): name = value
            case .failure(let error) where error.isMissing: continue
            case .failure(let error):
                issues.append(ProbeIssueMessages.unreadable(error, consequence: "zone skipped"))
                continue
            }
            var maxRange: UInt64?
            switch SysfsFile.readUInt64(FilePath.join(directory, "max_energy_range_uj")) {
            case .success(let value): maxRange = value
            case .failure(let error): issues.append(ProbeIssueMessages.missingMaxRange(error))
            }
            let (domain, socket) = RaplDomain.classify(zoneName: name)
            zones.append(
                PowercapZone(
                    id: id, name: name, domain: domain, socket: socket, path: link, directory: directory,
                    energyPath: FilePath.join(directory, "energy_uj"), maxEnergyRangeMicrojoules: maxRange
                ))
        }
        zones.sort { $0.id < $1.id }
        // Subzones (core, uncore, dram) belong to their package's socket.
        let socketOfZone = Dictionary(zones.map { ($0.id, $0.socket) }, uniquingKeysWith: { a, _ in a })
        for index in zones.indices where zones[index].socket == nil {
            var parent = zones[index].id.parent
            while let id = parent, zones[index].socket == nil {
                zones[index].socket = socketOfZone[id] ?? nil
                parent = id.parent
            }
        }
        return (zones, issues)
    }

    /// Discovers the zones and reads every counter once.
    public func read() -> (samples: [RaplZoneSample], issues: [ProbeIssue]) {
        let (zones, discoveryIssues) = discover()
        var issues = discoveryIssues
        let samples = zones.map { zone in
            var energy: UInt64?
            switch zone.readEnergy() {
            case .success(let value): energy = value
            case .failure(let error): issues.append(ProbeIssueMessages.energyCounter(error))
            }
            return RaplZoneSample(
                id: zone.id, name: zone.name, domain: zone.domain, socket: zone.socket, path: zone.path,
                energyMicrojoules: energy, maxEnergyRangeMicrojoules: zone.maxEnergyRangeMicrojoules
            )
        }
        return (samples, issues)
    }
}
