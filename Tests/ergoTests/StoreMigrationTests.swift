import ErgometerTestSupport
import Foundation
import Testing

/// A store written before energy domains (Tests/Fixtures/stores/before-domains: a RAPL job and
/// a model job, with the reports and job list that version printed) opens, migrates, and
/// reports every old job as it did, key for key, with the new keys beside.
struct StoreMigrationTests {
    static func json(_ result: ProcessResult) throws -> Any {
        #expect(result.status == 0, "\(result.standardError)")
        return try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
    }

    /// Whether `new` holds everything `old` did, equal: every key of an object (new keys may be
    /// added), every element of an array, every number and string.
    static func holds(_ new: Any?, _ old: Any) -> Bool {
        switch old {
        case let object as [String: Any]:
            guard let new = new as? [String: Any] else { return false }
            return object.allSatisfy { holds(new[$0.key], $0.value) }
        case let array as [Any]:
            guard let new = new as? [Any], new.count == array.count else { return false }
            return zip(new, array).allSatisfy { holds($0, $1) }
        default:
            guard let new = new as? NSObject, let old = old as? NSObject else { return false }
            return new.isEqual(old)
        }
    }

    @Test func aStoreFromBeforeDomainsReportsEveryJobUnchanged() throws {
        let state = try Fixtures.scratchCopy(of: "stores/before-domains")
        defer { try? FileManager.default.removeItem(atPath: state) }
        let ergo = BuiltProducts.executable("ergo")
        let environment = ["ERGOMETER_SOCKET": state + "/no-ergod.sock"]
        for id in ["1", "2"] {
            let before = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/report-\(id).json"))) as? [String: Any])
            let after = try #require(try Self.json(try ProcessResult.run(ergo, ["report", id, "--json", "--state-dir", state], environment: environment)) as? [String: Any])
            for (key, value) in before {
                #expect(Self.holds(after[key], value), "job \(id) \(key): \(after[key] ?? "missing") for \(value)")
            }
            let domains = try #require(after["domains"] as? [[String: Any]])
            let energy = try #require(before["energy_joules"] as? Double)
            #expect(abs(domains.reduce(0) { $0 + ($1["joules"] as? Double ?? 0) } - energy) < 1e-6, "job \(id): the migrated domains hold its energy")
            let source = before["source"] as? String
            #expect(domains.allSatisfy { $0["source"] as? String == source }, "job \(id): \(domains)")
            let byDomain = try #require(before["energy_by_domain"] as? [String: Any])
            let package = domains.filter { $0["domain"] as? String == "cpu-package" }.reduce(0) { $0 + ($1["joules"] as? Double ?? 0) }
            #expect(abs(package - (byDomain["package_joules"] as? Double ?? -1)) < 1e-6, "job \(id)")
        }
        let jobs = try Self.json(try ProcessResult.run(ergo, ["jobs", "--all", "--json", "--state-dir", state], environment: environment))
        let oldJobs = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state + "/jobs.json")))
        #expect(Self.holds(jobs, oldJobs), "\(jobs) for \(oldJobs)")
        let ledger = try #require(try Self.json(try ProcessResult.run(ergo, ["ledger", "--json", "--state-dir", state], environment: environment)) as? [String: Any])
        #expect(ledger["measured_microjoules"] as? UInt64 ?? 0 > 0)

        // Their series predate the per-domain ones: drawn as one `all` series of their source.
        let picture = state + "/report-1.svg"
        let drawn = try ProcessResult.run(ergo, ["report", "1", "--state-dir", state, "--svg", picture], environment: environment)
        #expect(drawn.status == 0 && drawn.standardOutput.contains("picture: \(picture)"), "\(drawn.standardError)")
        let svg = (try? String(contentsOfFile: picture, encoding: .utf8)) ?? ""
        #expect(svg.contains("data-name=\"all rapl\"") && !svg.contains("data-name=\"cpu-package"), "the old series drawn whole")
        let unwritable = try ProcessResult.run(ergo, ["report", "1", "--state-dir", state, "--svg", state + "/no-such-dir/report.svg"], environment: environment)
        #expect(unwritable.status == 1 && unwritable.standardError.contains("cannot write the picture to"), "\(unwritable.standardError)")

        // Retention's migration too: `ergo store` counts the old rows, every key there.
        let store = try #require(try Self.json(try ProcessResult.run(ergo, ["store", "--json", "--state-dir", state, "--config", state + "/none.toml"], environment: environment)) as? [String: Any])
        for key in ["path", "bytes", "jobs", "samples_full", "samples_rolled_up", "oldest_sample", "newest_sample", "retention", "last_prune"] {
            #expect(store.keys.contains(key), "ergo store --json has \(key): \(store)")
        }
        #expect(store["jobs"] as? Int == 2)
        #expect((store["samples_full"] as? Int ?? 0) + (store["samples_rolled_up"] as? Int ?? 0) > 0, "the old series are counted: \(store)")
        #expect((store["retention"] as? [String: Any])?["full_resolution_days"] as? Double == 7)
        let text = try ProcessResult.run(ergo, ["store", "--state-dir", state, "--config", state + "/none.toml"], environment: environment)
        #expect(text.status == 0 && text.standardOutput.contains("retention: full resolution 7 days, per minute until 90 days, jobs forever"), "\(text.standardOutput)")
    }
}
