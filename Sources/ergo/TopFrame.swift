import ErgometerCore
import ErgometerWire

/// One frame of `ergo top` as plain lines: the box (power per domain with its source, CPU busy,
/// the hottest sensor), then the running jobs sorted by `sort`, from `scroll` on, cut to fit
/// `rows` × `columns`. The same text for the terminal and for `--once`.
struct TopFrame {
    /// How the jobs are ordered; `s` steps through them.
    enum Sort: String, CaseIterable {
        case power, energy, id, name

        var next: Sort { Sort.allCases[(Sort.allCases.firstIndex(of: self)! + 1) % Sort.allCases.count] }
    }

    static let minimumRows = 8
    static let minimumColumns = 60

    var view: LiveView
    var sort: Sort = .power
    var scroll = 0
    var interactive = false

    /// The jobs in display order.
    var sortedJobs: [LiveView.Job] {
        view.jobs.sorted { a, b in
            switch sort {
            case .power: return (a.watts, Int(b.id) ?? 0) > (b.watts, Int(a.id) ?? 0)
            case .energy: return (a.energyJoules, Int(b.id) ?? 0) > (b.energyJoules, Int(a.id) ?? 0)
            case .id: return (Int(a.id) ?? 0) < (Int(b.id) ?? 0)
            case .name: return (a.name, Int(a.id) ?? 0) < (b.name, Int(b.id) ?? 0)
            }
        }
    }

    func lines(rows: Int, columns: Int) -> [String] {
        guard rows >= Self.minimumRows, columns >= Self.minimumColumns else {
            return ["terminal \(columns)×\(rows) too small; ergo top needs \(Self.minimumColumns)×\(Self.minimumRows)"]
        }
        var out: [String] = []
        let busy = view.cpuBusyRatio.map { "CPU \(Format.fixed($0 * 100, 0)) % busy" } ?? "CPU busy unknown"
        let hottest = view.temperatureMaxCelsius.map { "hottest sensor \(Format.fixed($0, 0)) °C" } ?? "no temperatures"
        let sources = Array(Set(view.domains.filter { $0.kind != "platform" }.map(\.source))).sorted().joined(separator: "+")
        out.append(
            "ergo top  box \(Format.fixed(view.hostWatts, 1)) W [\(sources)]  \(busy)  \(hottest)  \(view.jobs.count) job\(view.jobs.count == 1 ? "" : "s")  \(UTCTimestamp.iso8601(view.time))")
        out.append("")
        var domainRows = [["DOMAIN", "KIND", "SOURCE", "W NOW"]]
        for domain in view.domains {
            domainRows.append([domain.name, domain.kind, domain.source, Format.fixed(domain.watts, 2)])
        }
        out += Self.table(domainRows, rightAligned: [3])
        out.append("")
        let help = interactive ? "  s: sort, ↑↓: scroll, q: quit" : ""
        out.append("JOBS by \(sort.rawValue)\(help)")
        var jobRows = [["ID", "NAME", "USER", "SCHEDULER", "W NOW", "J SO FAR", "CO2 g", "CORES", "GPUS", "SOURCE"]]
        let jobs = sortedJobs
        let first = min(max(scroll, 0), max(jobs.count - 1, 0))
        let room = max(rows - out.count - 1, 1)
        for job in jobs.dropFirst(first).prefix(room) {
            jobRows.append([
                job.id, job.name, job.user, job.scheduler ?? "ergo run", Format.fixed(job.watts, 2), Format.fixed(job.energyJoules, 1),
                Format.fixed(job.co2Grams, 3), Format.fixed(job.busyCores, 2), job.gpus.isEmpty ? "-" : job.gpus.joined(separator: ","), job.source,
            ])
        }
        if jobs.isEmpty { jobRows.append(["-", "no running jobs", "", "", "", "", "", "", "", ""]) }
        out += Self.table(jobRows, rightAligned: [4, 5, 6, 7], shrinking: 1, columns: columns)
        if jobs.count > first + room { out.append("… \(jobs.count - first - room) more (↓)") }
        return Array(out.prefix(rows)).map { String($0.prefix(columns)) }
    }

    static func table(_ rows: [[String]], rightAligned: Set<Int>, shrinking: Int? = nil, columns: Int = .max) -> [String] {
        Format.table(rows, rightAligned: rightAligned, indent: "", shrinking: shrinking, columns: columns).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }
}
