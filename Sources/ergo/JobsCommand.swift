import ArgumentParser
import ErgometerCharts
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

    @Option(help: ArgumentHelp("Also draw the job's power over time per domain, and its temperature, to this SVG file.", valueName: "FILE"))
    var svg: String?

    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        if prometheus != nil, svg != nil { throw ValidationError("--svg draws the series stored on this box; leave out --prometheus") }
        if let prometheus {
            let report = try PrometheusJobQuery.report(jobID: id, prometheus: prometheus, range: range)
            print(json ? JSONOutput.string(report) : PrometheusJobQuery.render(report), terminator: json ? "\n" : "")
            return
        }
        let repository = try daemon.repository()
        let report = try repository.report(id: id)
        if let svg {
            let series = try repository.series(id: id)
            guard !series.samples.isEmpty else {
                throw CommandFailure("job \(id) has no stored samples to draw (retention drops them after store.series_days); `ergo report \(id)` has its totals")
            }
            try SVGOutput.write(PowerChart.svg(series: series, summary: PowerChart.Summary(report)), to: svg)
        }
        print(json ? JSONOutput.string(report) : ReportTextRenderer.render(report), terminator: json ? "\n" : "")
        if let svg { SVGOutput.announce(svg, json: json) }
    }
}
