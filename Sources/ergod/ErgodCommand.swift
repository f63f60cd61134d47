import ArgumentParser
import ErgometerDaemon
import ErgometerStore
import ErgometerWire
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `ergod`: the Ergometer daemon. Samples the machine, attributes energy to jobs, answers the
/// control API on a Unix socket and serves /metrics on loopback TCP.
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

    @Option(help: ArgumentHelp("NVML to load: a soname, a path, or off (default libnvidia-ml.so.1).", valueName: "LIBRARY"))
    var nvmlLibrary: String?

    @Option(help: ArgumentHelp("Address of the /metrics listener, host:port or off (default 127.0.0.1:9477).", valueName: "ADDRESS"))
    var listen: String?

    func run() async throws {
        // Hummingbird's Date-header cache builds a Gregorian calendar, which looks up the
        // current time zone; for a zone from /etc/localtime Foundation asks ICU, paging in
        // 2.4 MB of its code and data. ergod keeps no local time (its own log dates are UTC,
        // HTTP dates GMT): unless TZ is set, it runs in GMT (RSS 37.8 → 35.4 MB, measured).
        setenv("TZ", "GMT", 0)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["ERGOMETER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let logger = Logger(label: "ergod")
        DescriptorLimit.raise()
        let configuration: DaemonConfiguration
        do {
            configuration = try resolvedConfiguration()
        } catch {
            throw Self.failure(error.description)
        }
        do {
            try DaemonFiles.prepare(socket: configuration.socketPath, stateDirectory: configuration.stateDirectory)
        } catch {
            throw Self.failure(error.description)
        }

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
            throw Self.failure(error.description)
        }
        // Before the control socket exists: a request that ticked the sampler before the
        // checkpoint's counter readings were restored would count the gap twice.
        await sampler.restore()
        let socketPath = configuration.socketPath
        let application = HTTPService(
            responder: ControlRoutes.router(sampler: sampler, logger: logger).buildResponder(),
            server: ControlServer.server(configuration: configuration, logger: logger),
            address: .unixDomainSocket(path: socketPath), serverName: "ergod",
            onServerRunning: { _ in
                chmod(socketPath, 0o666)  // every user may ask: the peer's uid (SO_PEERCRED) decides what they see
                logger.info("ergod ready", metadata: ["ergometer.socket": "\(socketPath)"])
            },
            logger: logger
        )
        let notifier = SystemdNotifier(environment: ProcessInfo.processInfo.environment)
        let overrides = self
        // Dependency order: a ServiceGroup stops its services in reverse, so the control socket
        // (and /metrics, and the reloader) stop before the sampler, whose final checkpoint is then
        // the last write: no job is registered or ended after it.
        var services: [any Service] = [
            SamplerService(sampler: sampler, notifier: notifier),
            application,
            ConfigurationReloader(file: config, sampler: sampler, notifier: notifier, logger: logger) { overrides.applyFlags(to: $0) },
        ]
        if let address = configuration.metricsAddress {
            if !address.isLoopback {
                logger.warning("/metrics listens beyond loopback: anyone who can reach it sees job names and users", metadata: ["ergometer.listen": "\(address)"])
            }
            services.append(HTTPService(
                responder: MetricsRoutes.router(sampler: sampler).buildResponder(),
                address: .hostname(address.host, port: address.port), serverName: "ergod",
                onServerRunning: { channel in
                    logger.info("metrics listening", metadata: ["ergometer.listen": "\(channel.localAddress.map { "\($0)" } ?? "\(address)")"])
                },
                logger: logger
            ))
        }
        let group = ServiceGroup(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        defer { unlink(socketPath) }
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw Self.failure("cannot listen for /metrics on \(configuration.metricsListen): the address is in use (another ergod, or node_exporter?); set metrics.listen in the config or --listen host:port, or \"off\"")
        }
    }

    /// A problem found while starting (not a mistake in the command line): said once, as
    /// `ergod: ...`, without the usage text, and ergod exits 1.
    static func failure(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data(("ergod: " + message + "\n").utf8))
        return ExitCode.failure
    }

    /// Defaults, then the file, then the flags; validated together.
    func resolvedConfiguration() throws(ConfigurationError) -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        if let config { configuration = try ConfigurationLoader.load(file: config) }
        configuration = applyFlags(to: configuration)
        let problems = configuration.validationProblems()
        if !problems.isEmpty { throw ConfigurationError(file: config ?? "command line", problems: problems) }
        return configuration
    }

    /// The flags given override the file's values (at start and at every reload).
    func applyFlags(to file: DaemonConfiguration) -> DaemonConfiguration {
        var configuration = file
        if let sysfsRoot { configuration.sysfsRoot = sysfsRoot }
        if let procfsRoot { configuration.procfsRoot = procfsRoot }
        if let stateDir { configuration.stateDirectory = stateDir }
        if let socket { configuration.socketPath = socket }
        if let interval { configuration.intervalSeconds = interval }
        if let listen { configuration.metricsListen = listen }
        if let nvmlLibrary { configuration.nvmlLibrary = nvmlLibrary }
        return configuration
    }
}
