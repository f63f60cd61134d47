public import Logging
public import ServiceLifecycle
import UnixSignals

/// Reloads the configuration file on SIGHUP. A file that does not parse or validate is refused
/// with a log line naming every problem, and the running configuration stays.
public struct ConfigurationReloader: Service {
    let file: String?
    let sampler: Sampler
    let notifier: SystemdNotifier?
    let logger: Logger
    /// Applies the command line's overrides on top of the file, as at start.
    let overrides: @Sendable (DaemonConfiguration) -> DaemonConfiguration

    public init(file: String?, sampler: Sampler, notifier: SystemdNotifier?, logger: Logger, overrides: @escaping @Sendable (DaemonConfiguration) -> DaemonConfiguration) {
        self.file = file
        self.sampler = sampler
        self.notifier = notifier
        self.logger = logger
        self.overrides = overrides
    }

    public func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                await reload()
            }
        }
    }

    func reload() async {
        guard let file else {
            logger.notice("SIGHUP: ergod was started without --config; nothing to reload")
            return
        }
        notifier?.send("RELOADING=1\nSTATUS=reloading \(file)\n")
        defer { notifier?.send("READY=1\n") }
        do {
            let loaded = overrides(try ConfigurationLoader.load(file: file))
            let problems = loaded.validationProblems()
            guard problems.isEmpty else { throw ConfigurationError(file: file, problems: problems) }
            let needsRestart = try await sampler.reload(loaded)
            logger.notice("configuration reloaded", metadata: ["ergometer.config": "\(file)"])
            if !needsRestart.isEmpty {
                logger.warning(
                    "these keys changed but take effect only after a restart; their old values stay",
                    metadata: ["ergometer.keys": "\(needsRestart.joined(separator: ", "))"])
            }
        } catch {
            logger.error("new configuration refused; the running one stays\n\(error)", metadata: ["ergometer.config": "\(file)"])
        }
    }
}
