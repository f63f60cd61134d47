import ErgometerCore
import Testing

struct ProbeReportTests {
    static let range: UInt64 = 262_143_328_850
    static let boot = "5a1c2d3e-0f4b-4c8e-9d7a-3b2f1e0c9a8d"

    func zone(_ dir: String, _ name: String, _ energy: UInt64?) -> RaplZoneSample {
        let (domain, socket) = RaplDomain.classify(zoneName: name)
        return RaplZoneSample(
            id: PowercapZoneID(directoryName: dir)!, name: name, domain: domain, socket: socket ?? 0, path: "/sys/class/powercap/\(dir)",
            energyMicrojoules: energy, maxEnergyRangeMicrojoules: Self.range)
    }

    func snapshot(seconds: Double, package: UInt64, core: UInt64, dram: UInt64, busy: UInt64, idle: UInt64) -> MachineSnapshot {
        MachineSnapshot(
            rapl: [zone("intel-rapl:0", "package-0", package), zone("intel-rapl:0:0", "core", core), zone("intel-rapl:0:1", "dram", dram)],
            cpuStat: CPUStat(total: CPUTimes(busyTicks: busy, idleTicks: idle), perCPU: [(0, CPUTimes(busyTicks: busy, idleTicks: idle))]),
            bootID: Self.boot, monotonicNanoseconds: UInt64(seconds * 1e9))
    }

    @Test func powerOverAnIntervalIncludesAWrap() throws {
        let first = snapshot(seconds: 10, package: Self.range - 20_000_000, core: 1_000, dram: 5_000_000, busy: 100, idle: 100)
        let second = snapshot(seconds: 12, package: 30_000_000, core: 2_001_000, dram: 9_000_000, busy: 150, idle: 250)
        let report = ProbeReport(first: first, second: second, model: nil)
        #expect(report.intervalSeconds == 2)
        let package = try #require(report.rapl.first { $0.name == "package-0" })
        #expect(package.powerWatts == 25)  // (20 + 30) J over 2 s, across the wrap
        #expect(report.rapl.first { $0.name == "core" }?.powerWatts == 1)
        #expect(report.powerSource.source == .rapl)
        #expect(report.powerSource.zones == ["package-0", "dram"])
        #expect(report.powerSource.hostPowerWatts == 27, "\(String(describing: report.powerSource.hostPowerWatts))")  // package + dram; core is inside package
        #expect(report.cpu?.busyRatio == 0.25)
        #expect(report.cpu?.busyRatioWindow == "interval")
    }

    @Test func rebootBetweenSnapshotsLeavesPowerUnknown() {
        let first = snapshot(seconds: 1, package: 5_000_000, core: 1, dram: 1, busy: 1, idle: 1)
        var second = snapshot(seconds: 2, package: 6_000_000, core: 2, dram: 2, busy: 2, idle: 2)
        second.bootID = "0e6f3a55-8b1d-4f0e-a7c2-5d9e4b3c2a10"
        let report = ProbeReport(first: first, second: second, model: nil)
        #expect(report.powerSource.hostPowerWatts == nil)
        #expect(report.powerSource.reason.contains("counter reset"))
    }

    @Test func modelIsTheSourceWhenNoZoneCanBeRead() {
        let model = PowerModel(idleWatts: 10, maxWatts: 50, basis: "test")
        var first = snapshot(seconds: 0, package: 0, core: 0, dram: 0, busy: 0, idle: 0)
        var second = snapshot(seconds: 1, package: 0, core: 0, dram: 0, busy: 30, idle: 70)
        for index in first.rapl.indices {
            first.rapl[index].energyMicrojoules = nil
            second.rapl[index].energyMicrojoules = nil
        }
        let report = ProbeReport(first: first, second: second, model: model)
        #expect(report.powerSource.source == .model)
        #expect(report.powerSource.reason.contains("unreadable (package-0, dram)"))
        #expect(report.powerSource.hostPowerWatts == 10 + 40 * 0.3)
    }

    @Test func singleSnapshotHasNoPowerAndUtilizationSinceBoot() {
        let report = ProbeReport(first: snapshot(seconds: 1, package: 1, core: 1, dram: 1, busy: 1, idle: 3), model: nil)
        #expect(report.intervalSeconds == nil)
        #expect(report.powerSource.hostPowerWatts == nil)
        #expect(report.cpu?.busyRatio == 0.25)
        #expect(report.cpu?.busyRatioWindow == "since_boot")
    }
}
