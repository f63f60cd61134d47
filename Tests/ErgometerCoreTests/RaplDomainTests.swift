import ErgometerCore
import Testing

struct RaplDomainTests {
    @Test(arguments: [
        ("package-0", RaplDomain.package, 0 as Int?),
        ("package-3", .package, 3),
        ("package-10", .package, 10),
        ("core", .core, nil),
        ("uncore", .uncore, nil),
        ("dram", .dram, nil),
        ("psys", .psys, nil),
        ("gpu", .other, nil),
    ])
    func classifiesZoneNames(name: String, domain: RaplDomain, socket: Int?) {
        let result = RaplDomain.classify(zoneName: name)
        #expect(result.domain == domain)
        #expect(result.socket == socket)
    }

    @Test func zoneIDsAreHexadecimal() throws {
        let zone = try #require(PowercapZoneID(directoryName: "intel-rapl:a"))
        #expect(zone.controlType == "intel-rapl")
        #expect(zone.path == [10])
        let sub = try #require(PowercapZoneID(directoryName: "intel-rapl:f:1"))
        #expect(sub.path == [15, 1])
        #expect(sub.parent == PowercapZoneID(directoryName: "intel-rapl:f"))
        #expect(!sub.isTopLevel)
    }

    @Test(arguments: ["intel-rapl", "intel-rapl:", "intel-rapl:x", ":0", "intel-rapl:0:-1"])
    func rejectsNonZones(_ name: String) {
        #expect(PowercapZoneID(directoryName: name) == nil)
    }

    @Test func mmioZonesAreDuplicates() throws {
        #expect(try #require(PowercapZoneID(directoryName: "intel-rapl-mmio:0")).isDuplicateInterface)
        #expect(!(try #require(PowercapZoneID(directoryName: "intel-rapl:0")).isDuplicateInterface))
    }

    @Test func hostEnergyCountsPackagesAndDramOnce() throws {
        func sample(_ dir: String, _ name: String) throws -> RaplZoneSample {
            let (domain, socket) = RaplDomain.classify(zoneName: name)
            return RaplZoneSample(
                id: try #require(PowercapZoneID(directoryName: dir)), name: name, domain: domain, socket: socket,
                path: dir, energyMicrojoules: 1, maxEnergyRangeMicrojoules: nil)
        }
        let counted = try [
            ("intel-rapl:0", "package-0"), ("intel-rapl:0:0", "core"), ("intel-rapl:0:1", "uncore"),
            ("intel-rapl:0:2", "dram"), ("intel-rapl:1", "psys"), ("intel-rapl-mmio:0", "package-0"),
        ].map { try sample($0.0, $0.1) }.filter(\.countsTowardHostEnergy).map(\.id)
        #expect(counted == [PowercapZoneID(directoryName: "intel-rapl:0"), PowercapZoneID(directoryName: "intel-rapl:0:2")])
    }
}
