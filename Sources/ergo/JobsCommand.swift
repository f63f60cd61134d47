import ArgumentParser
import ErgometerStore
import ErgometerWire

/// `ergo jobs`: running jobs (all with --all), from ergod or a store.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List measured jobs, newest first.")

    @Flag(help: "Include ended jobs.")
    var all = false

    @Flag(help: "Print JSON: an array of {id, name, user, started, ended, energy_joules, ...}.")
    var json = false

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let jobs = try daemon.repository().jobs(all: all)
        if json {
            print(JSONOutput.string(jobs))
            return
        }
        var rows = [["ID", "NAME", "USER", "STARTED", "STATE", "ENERGY (J)", "SOURCE"]]
        for job in jobs {
            rows.append([
                job.id, job.name, job.user, ReportTextRenderer.timestamp(job.started),
                job.ended == nil ? "running" : "exit \(job.exitStatus.map(String.init) ?? "?")",
                Format.fixed(job.energyJoules, 3), job.source,
            ])
        }
        print(jobs.isEmpty ? (all ? "no jobs" : "no running jobs (--all lists ended ones)") : Format.table(rows), terminator: jobs.isEmpty ? "\n" : "")
    }
}

/// `ergo report ID`: one job's report.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Show one job's energy, power, CO2 and CPU report.")

    @Argument(help: "The job's id (from `ergo jobs`); with --prometheus, its job_id on every box.")
    var id: String

    @Flag(help: "Print JSON (keys documented in the README).")
    var json = false

    @Option(help: ArgumentHelp("Ask this Prometheus (http://host:port) for the job on every box it scrapes, and sum them.", valueName: "URL"))
    var prometheus: String?

    @Option(help: "With --prometheus: how far back to look (a PromQL duration).")
    var range = "7d"

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        if let prometheus {
            let report = try PrometheusJobQuery.report(jobID: id, prometheus: prometheus, range: range)
            print(json ? JSONOutput.string(report) : PrometheusJobQuery.render(report), terminator: json ? "\n" : "")
            return
        }
        let report = try daemon.repository().report(id: id)
        print(json ? JSONOutput.string(report) : ReportTextRenderer.render(report), terminator: json ? "\n" : "")
    }
}
