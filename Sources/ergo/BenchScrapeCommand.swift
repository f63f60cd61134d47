import ArgumentParser
import Dispatch
import ErgometerProbes

#if canImport(Glibc)
import Glibc
#endif

/// `ergo bench scrape`: a paced scrape load against a /metrics endpoint (ergod's, or
/// node_exporter's for comparison), with each scrape's latency. Connections are kept alive, as
/// Prometheus keeps its own.
struct BenchScrapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scrape",
        abstract: "Scrape a /metrics URL at a fixed rate; print latency (median, p99, max) and what was achieved."
    )

    @Option(help: "The endpoint.")
    var url = "http://127.0.0.1:9477/metrics"

    @Option(help: "Scrapes per second, all connections together.")
    var rate = 1000.0

    @Option(help: "How long to keep the load on.")
    var seconds = 10.0

    @Option(help: "Concurrent keep-alive connections.")
    var connections = 2

    func validate() throws {
        guard rate > 0 && rate <= 100_000 else { throw ValidationError("--rate \(rate): between 0 and 100000 scrapes per second.") }
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds \(seconds): between 0 and 3600.") }
        guard (1...64).contains(connections) else { throw ValidationError("--connections \(connections): between 1 and 64.") }
        do {
            _ = try ScrapeClient(url: url)
        } catch {
            throw ValidationError("--url \(error.description)")
        }
    }

    /// What one connection saw.
    struct Outcome {
        var latenciesMicroseconds: [Double] = []
        var errors = 0
        var firstError: String?
        var bytes = 0
        var badStatus = 0
    }

    func run() throws {
        let perConnection = Int((rate * seconds / Double(connections)).rounded(.up))
        let spacing = UInt64(Double(connections) / rate * 1e9)
        nonisolated(unsafe) var outcomes = [Outcome](repeating: Outcome(), count: connections)
        let url = self.url
        let started = MonotonicClock.nanoseconds()
        outcomes.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: connections) { connection in
                var client = try! ScrapeClient(url: url)
                var outcome = Outcome()
                outcome.latenciesMicroseconds.reserveCapacity(perConnection)
                var deadline = started + spacing * UInt64(connection) / UInt64(connections)
                for _ in 0..<perConnection {
                    let now = MonotonicClock.nanoseconds()
                    if deadline > now { usleep(UInt32((deadline - now) / 1000)) }
                    deadline += spacing
                    let start = MonotonicClock.nanoseconds()
                    do {
                        let response = try client.get()
                        outcome.latenciesMicroseconds.append(Double(MonotonicClock.nanoseconds() - start) / 1000)
                        outcome.bytes = response.bytes
                        if response.status != 200 { outcome.badStatus += 1 }
                    } catch {
                        outcome.errors += 1
                        outcome.firstError = outcome.firstError ?? "\(error)"
                    }
                }
                client.close()
                slots[connection] = outcome
            }
        }
        let elapsed = Double(MonotonicClock.nanoseconds() - started) / 1e9
        var latencies = outcomes.flatMap(\.latenciesMicroseconds)
        latencies.sort()
        let errors = outcomes.map(\.errors).reduce(0, +)
        let badStatus = outcomes.map(\.badStatus).reduce(0, +)
        print("ergo bench scrape: \(url), \(Format.fixed(rate, 0))/s asked for \(Format.fixed(seconds, 1)) s on \(connections) keep-alive connection(s)")
        guard !latencies.isEmpty else {
            throw CommandFailure("no scrape succeeded: \(outcomes.compactMap(\.firstError).first ?? "unknown error")")
        }
        func quantile(_ q: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
        print(Format.table([
            ["SCRAPES", "ACHIEVED (/s)", "ERRORS", "NON-200", "MEDIAN (µs)", "P99 (µs)", "MAX (µs)", "BODY (bytes)"],
            [
                "\(latencies.count)", Format.fixed(Double(latencies.count) / elapsed, 0), "\(errors)", "\(badStatus)",
                Format.fixed(quantile(0.5), 1), Format.fixed(quantile(0.99), 1), Format.fixed(latencies.last ?? 0, 1),
                "\(outcomes.map(\.bytes).max() ?? 0)",
            ],
        ]), terminator: "")
        if let first = outcomes.compactMap(\.firstError).first { print("first error: \(first)") }
    }
}
