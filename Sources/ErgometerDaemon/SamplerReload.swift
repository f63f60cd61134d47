import ErgometerCore
import Logging

extension Sampler {
    /// Applies a new configuration (SIGHUP): the keys that can change live take effect at the
    /// next tick; the others are listed and keep their old values until a restart. A
    /// configuration whose carbon schedules cannot be read is refused whole.
    public func reload(_ new: DaemonConfiguration) throws(ConfigurationError) -> [String] {
        let carbon = try ConfigurationLoader.carbonAccounting(new)
        let needsRestart = new.restartOnlyDifferences(from: configuration)
        var applied = configuration
        applied.checkpointSeconds = new.checkpointSeconds
        applied.idlePolicy = new.idlePolicy
        applied.idleWatts = new.idleWatts
        applied.intensityGramsPerKWh = new.intensityGramsPerKWh
        applied.intensityCSV = new.intensityCSV
        applied.pue = new.pue
        applied.pricePerKWh = new.pricePerKWh
        applied.priceCSV = new.priceCSV
        applied.currency = new.currency
        applied.energyResolutionJoules = new.energyResolutionJoules
        applied.metricsUpdateSeconds = new.metricsUpdateSeconds
        applied.endedJobGraceSeconds = new.endedJobGraceSeconds
        applied.adminGroup = new.adminGroup
        applied.maxActiveJobs = new.maxActiveJobs
        applied.maxActiveJobsPerUser = new.maxActiveJobsPerUser
        // The old interval stays, so the metrics interval is checked against it.
        let problems = applied.validationProblems()
        guard problems.isEmpty else { throw ConfigurationError(file: "reloaded configuration", problems: problems) }
        configuration = applied
        adminGroup.withLock { $0 = applied.adminGroup }
        self.carbon = carbon
        exported.resolution = EnergyResolution(joules: applied.energyResolutionJoules)
        board.setMinimumAge(nanoseconds: UInt64(applied.metricsPublishSeconds * 1e9))
        return needsRestart
    }
}
