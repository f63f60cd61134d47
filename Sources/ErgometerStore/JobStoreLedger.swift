import ErgometerCore
import GRDB

/// What a restart needs for the ledger's job buckets, without reading every job's totals: the
/// ledger keeps its most recent ended jobs one by one and sums the rest.
public struct EndedJobEnergy: Sendable {
    /// The jobs that ended last, with their energy per domain and source.
    public var latest: [(id: String, domains: [DomainTotal])]
    /// Every earlier ended job of the period, summed per domain (µJ).
    public var earlier: [String: UInt64]
}

extension JobStore {
    static let latestEndedSQL = "SELECT id FROM jobs WHERE started >= ? AND ended IS NOT NULL ORDER BY ended DESC, CAST(id AS INTEGER) DESC LIMIT ?"

    /// The ledger period's ended jobs (started since `since`): the `kept` that ended last one by
    /// one, the others summed per domain in SQL.
    public func endedJobEnergy(startedSince since: Double, keepingLatest kept: Int) throws(StoreError) -> EndedJobEnergy {
        try read { db in
            let ids = try String.fetchAll(db, sql: Self.latestEndedSQL, arguments: [since, kept])
            var domains: [String: [DomainTotal]] = [:]
            for start in stride(from: 0, to: ids.count, by: 500) {
                let batch = Array(ids[start..<min(start + 500, ids.count)])
                let marks = batch.map { _ in "?" }.joined(separator: ", ")
                for row in try Row.fetchAll(db, sql: "SELECT * FROM job_domain_energy WHERE job IN (\(marks))", arguments: StatementArguments(batch)) {
                    guard let kind = DomainKind(rawValue: row["kind"]), let source = EnergySource(rawValue: row["source"]) else { continue }
                    domains[row["job"], default: []].append(
                        DomainTotal(domain: row["domain"], kind: kind, source: source, energyMicrojoules: row["energy_uj"], idleShareMicrojoules: row["idle_share_uj"]))
                }
            }
            let sums = try Row.fetchAll(
                db, sql: """
                    SELECT domain, SUM(energy_uj) AS energy FROM job_domain_energy
                      WHERE job IN (SELECT id FROM jobs WHERE started >= ? AND ended IS NOT NULL AND id NOT IN (\(Self.latestEndedSQL)))
                      GROUP BY domain
                    """, arguments: [since, since, kept])
            return EndedJobEnergy(
                latest: ids.reversed().map { ($0, domains[$0] ?? []) },
                earlier: Dictionary(uniqueKeysWithValues: sums.map { ($0["domain"] as String, UInt64(max($0["energy"] as Int64, 0))) }))
        }
    }
}
