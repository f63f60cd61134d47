import ArgumentParser
import ErgometerDaemon
import ErgometerStore
import ErgometerWire
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `ergod`: the Ergometer daemon. Samples the machine, attributes energy to jobs, answers the
/// control API on a Unix socket.
@main
struct Ergod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ergod",
        abstract: "Sample energy, temperatures and CPU time, and attribute every joule to a job, system or idle."
    )

    @Option(help: ArgumentHelp("TOML configuration (every key documented in Config/ergometer.toml).", valueName: "FILE"))
    var config: String?

    @Option(help: ArgumentHelp("Root of the sysfs tree (powercap, hwmon, PCI).", valueName: "DIR"))
    var sysfsRoot: String?

    @Option(help: ArgumentHelp("Root of the procfs tree.", valueName: "DIR"))
    var procfsRoot: String?

    @Option(help: ArgumentHelp("Where the job store lives (default /var/lib/ergometer).", valueName: "DIR"))
    var stateDir: String?

    @Option(help: ArgumentHelp("The control socket (default /run/ergometer/ergod.sock).", valueName: "PATH"))
    var socket: String?

    @Option(help: ArgumentHelp("Sampling interval, 0.05 to 60 seconds (default 1).", valueName: "SECONDS"))
    var interval: Double?

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["ERGOMETER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let logger = Logger(label: "ergod")
        let configuration: DaemonConfiguration
        do {
            configuration = try resolvedConfiguration()
        } catch {
            throw ValidationError(error.description)
        }
        try DaemonFiles.prepare(socket: configuration.socketPath, stateDirectory: configuration.stateDirectory)

        var store: JobStore?
        var storeProblem: String?
        do {
            store = try JobStore(directory: configuration.stateDirectory)
        } catch {
            storeProblem = error.description
            logger.error("job store unusable; sampling in memory only", metadata: ["ergometer.error": "\(error)"])
        }
        let sampler: Sampler
        do {
            sampler = try Sampler(configuration: configuration, store: store, logger: logger, storeProblem: storeProblem)
        } catch {
            throw ValidationError(error.description)
        }
        let socketPath = configuration.socketPath
        let application = Application(
            router: ControlRoutes.router(sampler: sampler, logger: logger),
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "ergod"),
            onServerRunning: { _ in
                chmod(socketPath, 0o666)  // every user may ask; the peer uid decides what they see
                logger.info("ergod ready", metadata: ["ergometer.socket": "\(socketPath)"])
            },
            logger: logger
        )
        let group = ServiceGroup(
            services: [application, SamplerService(sampler: sampler)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
        unlink(socketPath)
    }

    /// Defaults, then the file, then the flags; validated together.
    func resolvedConfiguration() throws(ConfigurationError) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        if let config { configuration = try ConfigurationLoader.load(file: config) }
        if let sysfsRoot { configuration.sysfsRoot = sysfsRoot }
        if let procfsRoot { configuration.procfsRoot = procfsRoot }
        if let stateDir { configuration.stateDirectory = stateDir }
        if let socket { configuration.socketPath = socket }
        if let interval { configuration.intervalSeconds = interval }
        let problems = configuration.validationProblems()
        if !problems.isEmpty { throw ConfigurationError(file: config ?? "command line", problems: problems) }
        return configuration
    }
}
