import ErgometerDaemon
import ErgometerStore
import ErgometerTestSupport
import Foundation
import Testing

extension SamplerFaultTests {
    /// A job's temperature statistics go into the store at a checkpoint (as hand-built JSON) and
    /// come back on a restart: one reading at 40 °C before, one at 60 °C after, so the report
    /// says mean 50 and max 60 only if the first reading survived (60 and 60 if it was lost).
    @Test(.enabled(if: getuid() == 0, "job cgroups need root (CI runs as root)"))
    func temperatureStatisticsSurviveARestart() async throws {
        let bench = try await Bench()
        try Self.setTemperatures(millidegrees: 40_000, in: bench.root)
        try await bench.tick()  // a new job's first tick reads the sensors
        await bench.sampler.checkpoint()
        try Self.setTemperatures(millidegrees: 60_000, in: bench.root)
        let restarted = try Bench.sampler(bench.configuration, log: bench.log)
        await restarted.restore()  // the restored job's first tick reads them again
        usleep(50_000)
        await restarted.tick()
        let report = try await restarted.end(id: bench.job.id, exitStatus: 0, caller: Bench.caller)
        let sensors = try Self.temperatureInputs(in: bench.root).count
        #expect(sensors == 4)
        #expect(report.temperatures.count == sensors, "\(report.temperatures)")
        for summary in report.temperatures {
            #expect(summary.meanCelsius == 50 && summary.maxCelsius == 60, "\(summary)")
        }
        let stored = try #require(try JobStore(directory: bench.state).job(id: bench.job.id))
        #expect(TemperatureStatisticsJSON.decode(stored.1.temperaturesJSON)?.values.allSatisfy { $0 == [100, 2, 60] } == true, "\(stored.1.temperaturesJSON)")
    }

    static func temperatureInputs(in root: String) throws -> [String] {
        let devices = root + "/sys/devices"
        return (FileManager.default.enumerator(atPath: devices)?.allObjects as? [String] ?? [])
            .filter { ($0 as NSString).lastPathComponent.hasPrefix("temp") && $0.hasSuffix("_input") }
            .map { devices + "/" + $0 }
    }

    static func setTemperatures(millidegrees: Int, in root: String) throws {
        for path in try temperatureInputs(in: root) { try "\(millidegrees)\n".write(toFile: path, atomically: true, encoding: .utf8) }
    }
}
