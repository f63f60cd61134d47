public import ServiceLifecycle

/// Runs the sampler as a service: ticks until graceful shutdown (SIGTERM), then a final
/// checkpoint. The sampler is restored (`Sampler.restore`) before the service group starts, so
/// that no control request reaches it first.
public struct SamplerService: Service {
    let sampler: Sampler
    let notifier: SystemdNotifier?

    public init(sampler: Sampler, notifier: SystemdNotifier? = nil) {
        self.sampler = sampler
        self.notifier = notifier
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await sampler.run(notifier: notifier)
        }
    }
}
