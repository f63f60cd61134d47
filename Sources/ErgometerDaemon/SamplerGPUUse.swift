import ErgometerCore
import ErgometerProbes

extension Sampler {
    /// How often the jobs' DRM clients are read: engine time changes smoothly, and a read costs a
    /// directory listing per job process.
    static let gpuUseSeconds = 1.0

    /// Each job's use of each GPU domain (DRM engine time since the last read), refreshed at most
    /// once a second for the processes of running jobs only; between reads the last window's
    /// use stands for every tick, so a job's share follows its recent use of the GPU.
    func refreshGPUUseIfDue(now: UInt64) {
        guard meters.hasPCIGPUs, Double(now &- lastGPUUseRead) / 1e9 >= Self.gpuUseSeconds || lastGPUUseRead == 0 else { return }
        lastGPUUseRead = now
        let reader = DRMUsageReader(procfs: procfs)
        var index = active.startIndex
        while index != active.endIndex {
            let usage = reader.usage(of: processes(of: active.values[index]))
            active.values[index].observeGPUUse(usage, domains: meters.domains, drm: meters.hwmonDomains)
            active.formIndex(after: &index)
        }
    }

    /// The weights the attribution takes: per GPU domain, each job's use of it in walk order,
    /// and for an NVIDIA GPU the use outside every job; nil for domains that are not GPUs, or
    /// DRM-weighted ones no job used.
    func gpuWeights() -> [GPUDomainUse?] {
        guard meters.hasPCIGPUs || !meters.nvmlDomains.isEmpty else { return [] }
        var weights = [GPUDomainUse?](repeating: nil, count: meters.domains.count)
        for domain in meters.domains.indices where meters.kinds[domain] == .gpu {
            let nvml = meters.nvmlDomains.contains(domain)
            guard nvml || (meters.hasPCIGPUs && !active.isEmpty) else { continue }
            var column = [UInt64]()
            column.reserveCapacity(active.count)
            var used = false
            var index = active.startIndex
            while index != active.endIndex {
                let use = active.values[index].gpuUse.isEmpty ? 0 : active.values[index].gpuUse[domain]
                used = used || use > 0
                column.append(use)
                active.formIndex(after: &index)
            }
            if nvml {
                let gpu = domain - meters.nvmlDomains.lowerBound
                weights[domain] = GPUDomainUse(
                    jobs: column, outside: nvmlOutsideUse[gpu], seesEveryProcess: meters.nvml.gpus[gpu].processListReadable)
            } else if used {
                weights[domain] = GPUDomainUse(jobs: column)
            }
        }
        return weights
    }

    /// A job's processes: those in its cgroup and the folders below it (a scheduler's job keeps
    /// them in steps or containers), or the root of its process tree.
    func processes(of job: ActiveJob) -> [Int32] {
        switch job.tracking {
        case .cgroup, .cgroupV1: cgroupFolder(of: job.tracking)?.processes(limit: 4096) ?? []
        case .processTree(let root): [root]
        }
    }
}

extension ActiveJob {
    /// Takes a new reading of the job's DRM clients (cumulative busy time per PCI slot) and
    /// keeps, per GPU domain, the increase since the last one. A client that went away or a
    /// count that went down (a client closed, another opened) adds nothing for that window.
    mutating func observeGPUUse(_ usage: [String: UInt64], domains: [EnergyDomain], drm: Range<Int>) {
        if gpuUse.count != domains.count { gpuUse = [UInt64](repeating: 0, count: domains.count) }
        for (index, domain) in domains.enumerated() where domain.kind == .gpu && drm.contains(index) {
            guard let slot = domain.pciSlot else { continue }
            let now = usage[slot] ?? 0
            let before = drmBusy[slot]
            gpuUse[index] = before.map { now >= $0 ? now - $0 : 0 } ?? 0
            drmBusy[slot] = now
        }
    }
}
