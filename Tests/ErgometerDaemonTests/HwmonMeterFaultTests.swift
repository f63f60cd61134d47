import ErgometerCore
import ErgometerDaemon
import ErgometerTestSupport
import ErgometerWire
import Foundation
import Logging
import Testing

/// The hwmon meter's faults through the real sampler, on a copy of the gpu-box tree.
struct HwmonMeterFaultTests {
    static let caller = ControlCaller(uid: Int(getuid()), gid: Int(getgid()), pid: getpid(), user: "test", isAdmin: true)

    /// A GPU whose counter cannot be read (a lost device, a driver unloaded: here its file reads
    /// empty) keeps its energy so far, says so, and, back, its counter covers the gap.
    @Test func aGPUThatVanishesKeepsItsEnergyAndComesBack() async throws {
        let root = try Fixtures.scratchCopy(of: "gpu-box")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let counter = root + "/sys/devices/pci0000:00/0000:00:01.2/0000:04:00.0/hwmon/hwmon1/energy1_input"
        SimulatedMeters.writeInPlace(1_000_000_000, to: counter)
        var configuration = DaemonConfiguration()
        configuration.sysfsRoot = root + "/sys"
        configuration.procfsRoot = root + "/proc"
        let log = RecordedLog()
        let sampler = try Sampler(configuration: configuration, store: nil, logger: Logger(label: "vanish") { _ in RecordedLog.Handler(log: log) })
        func measured() async -> UInt64? {
            await sampler.ledger(for: Self.caller).domains.first { $0.domain == "gpu-0000:04:00.0" }?.measuredMicrojoules
        }
        SimulatedMeters.writeInPlace(1_010_000_000, to: counter)
        usleep(20_000)
        await sampler.tick()
        #expect(await measured() == 10_000_000)
        truncate(counter, 0)
        usleep(20_000)
        await sampler.tick()
        await sampler.tick()
        #expect(await measured() == 10_000_000, "the energy so far is intact")
        #expect(log.contains("an hwmon power or energy sensor cannot be read"))
        SimulatedMeters.writeInPlace(1_030_000_000, to: counter)
        usleep(20_000)
        await sampler.tick()
        #expect(await measured() == 30_000_000, "the counter covers the gap once it reads again")
        #expect(log.contains("hwmon sensors readable again"))
    }
}
