import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

struct PowercapReaderTests {
    func read(_ fixture: String) -> (samples: [RaplZoneSample], issues: [ProbeIssue]) {
        PowercapReader(sysfs: SysFS(root: Fixtures.path(fixture) + "/sys")).read()
    }

    @Test func oneSocketIntelWithSubzonesPsysAndMMIO() {
        let (zones, issues) = read("intel-1s")
        #expect(issues.isEmpty)
        #expect(zones.map(\.name) == ["package-0", "core", "uncore", "dram", "psys", "package-0"])
        #expect(zones.map(\.domain) == [.package, .core, .uncore, .dram, .psys, .package])
        #expect(zones.map(\.socket) == [0, 0, 0, 0, nil, 0])
        #expect(zones.map(\.countsTowardHostEnergy) == [true, false, false, true, false, false])
        #expect(zones[0].energyMicrojoules == 183_764_328_151)
        #expect(zones[3].maxEnergyRangeMicrojoules == 65_712_999_613)  // DRAM has its own energy unit
        #expect(zones[4].energyMicrojoules == 60_293_987_000_000)  // psys far above the package range
        #expect(zones[5].id.isDuplicateInterface)
        #expect(zones[0].path.hasSuffix("/class/powercap/intel-rapl:0"))  // shown as the class entry, read through its link
    }

    @Test func socketComesFromTheNameNotTheZoneIndex() {
        let (zones, _) = read("intel-2s")
        let byDirectory = Dictionary(uniqueKeysWithValues: zones.map { (FilePathTail.last($0.path), $0) })
        #expect(byDirectory["intel-rapl:0"]?.name == "package-1")
        #expect(byDirectory["intel-rapl:0"]?.socket == 1)
        #expect(byDirectory["intel-rapl:0:0"]?.domain == .dram)
        #expect(byDirectory["intel-rapl:0:0"]?.socket == 1)
        #expect(byDirectory["intel-rapl:1:1"]?.domain == .dram)
        #expect(byDirectory["intel-rapl:1:1"]?.socket == 0)
        #expect(zones.filter(\.countsTowardHostEnergy).count == 4)
    }

    @Test func hexadecimalZoneIDsFromTheProcfsFixture() throws {
        let (zones, issues) = read("shared/procfs-powercap-hexid")
        #expect(issues.isEmpty)
        #expect(zones.count == 3)  // the bare control-type directory is not a zone
        let tenth = try #require(zones.first { FilePathTail.last($0.path) == "intel-rapl:a" })
        #expect(tenth.name == "package-10")
        #expect(tenth.socket == 10)
        #expect(tenth.id.path == [10])
        #expect(zones.last?.id.path == [10])  // ordered by id, not by name: a (10) after 0 and 0:0
    }

    @Test func amdPackageAndCoreOnly() {
        let (zones, _) = read("amd")
        #expect(zones.map(\.name) == ["package-0", "core"])
        #expect(zones.map(\.maxEnergyRangeMicrojoules) == [65_532_610_987, 65_532_610_987])
    }

    @Test func missingRangeAndRefusedReadAreIssuesAndTheRestStillReads() throws {
        let (zones, issues) = read("missing-max-range")
        #expect(zones.map(\.name) == ["package-0", "core", "dram"])
        #expect(zones[0].energyMicrojoules == 5_000_000)
        #expect(zones[0].maxEnergyRangeMicrojoules == nil)
        #expect(zones[1].energyMicrojoules == 2_000_000)
        #expect(zones[2].energyMicrojoules == nil)
        let range = try #require(issues.first { $0.path.hasSuffix("intel-rapl:0/max_energy_range_uj") })
        #expect(range.message.contains("wrap cannot be corrected"))
        let refused = try #require(issues.first { $0.path.hasSuffix("intel-rapl:0:1/energy_uj") })
        #expect(refused.message.contains("the other zones still read"))
    }

    @Test func noPowercapTreeExplainsTheModelFallback() throws {
        let (zones, issues) = read("no-powercap")
        #expect(zones.isEmpty)
        let issue = try #require(issues.first)
        #expect(issue.path.hasSuffix("no-powercap/sys/class/powercap"))
        #expect(issue.message.contains("no RAPL energy counters"))
        #expect(issue.message.contains("--tdp-watts"))
    }

    @Test func countersAreReadAgainOnEachCall() throws {
        let root = try Fixtures.scratchCopy(of: "amd")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let reader = PowercapReader(sysfs: SysFS(root: root + "/sys"))
        let (zones, _) = reader.discover()
        #expect(try zones[0].readEnergy().get() == 64_930_873_566)
        try "1234\n".write(toFile: root + "/sys/class/powercap/intel-rapl:0/energy_uj", atomically: false, encoding: .utf8)
        #expect(try zones[0].readEnergy().get() == 1234)
    }
}

/// The last path component, for asserting on zone directories.
enum FilePathTail {
    static func last(_ path: String) -> String { String(path.split(separator: "/").last ?? "") }
}
