public import ServiceLifecycle

/// Runs the sampler as a service: ticks until graceful shutdown, then a final checkpoint.
public struct SamplerService: Service {
    let sampler: Sampler

    public init(sampler: Sampler) {
        self.sampler = sampler
    }

    public func run() async throws {
        await sampler.restore()
        await cancelWhenGracefulShutdown {
            await sampler.run()
        }
    }
}
