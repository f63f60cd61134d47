import ErgometerCore
import ErgometerProbes

extension Sampler {
    /// How long a process's job, once looked up, is trusted (a process may be moved).
    static let nvmlProcessLookupSeconds = 10.0

    /// Each NVIDIA GPU's use this tick, from the processes NVML lists on it: each process's
    /// weight (`GPUProcessUse.weight`) goes to its job (the innermost, by cgroup or process
    /// tree), or to the GPU's use outside every job. Only processes on a GPU are looked up,
    /// once each (then kept for `nvmlProcessLookupSeconds`, or until the jobs change).
    func observeNVMLUse(now: UInt64) {
        guard !meters.nvmlDomains.isEmpty else { return }
        if Double(now &- lastNVMLLookupReset) / 1e9 >= Self.nvmlProcessLookupSeconds {
            nvmlJobOfProcess.removeAll(keepingCapacity: true)
            lastNVMLLookupReset = now
        }
        for key in nvmlUsingJobs {
            guard let index = active.index(forKey: key) else { continue }
            for domain in meters.nvmlDomains where domain < active.values[index].gpuUse.count { active.values[index].gpuUse[domain] = 0 }
        }
        nvmlUsingJobs.removeAll(keepingCapacity: true)
        if nvmlOutsideUse.count != meters.nvml.gpus.count { nvmlOutsideUse = [UInt64](repeating: 0, count: meters.nvml.gpus.count) }
        for gpu in meters.nvml.gpus.indices {
            nvmlOutsideUse[gpu] = 0
            let processes = meters.nvml.gpus[gpu].processes[...]
            guard !processes.isEmpty else { continue }
            let domain = meters.nvmlDomains.lowerBound + gpu
            let sampled = GPUProcessUse.anySampled(processes)
            for process in processes {
                let weight = sampled ? process.smPercent ?? 0 : 1
                guard weight > 0 else { continue }
                guard let key = job(ofProcess: process.pid), let index = active.index(forKey: key) else {
                    nvmlOutsideUse[gpu] += weight
                    continue
                }
                if active.values[index].gpuUse.count != meters.domains.count {
                    active.values[index].gpuUse = [UInt64](repeating: 0, count: meters.domains.count)
                }
                active.values[index].gpuUse[domain] += weight
                if meters.nvml.gpus[gpu].migEnabled { active.values[index].gpuBoardLevel[domain] = true }
                nvmlUsingJobs.append(key)
            }
        }
    }

    /// The job a process belongs to: the innermost job cgroup holding it, else the nearest
    /// ancestor that is the root of a process-tree job; nil when it is in none.
    func job(ofProcess pid: Int32) -> String? {
        if let known = nvmlJobOfProcess[pid] { return known }
        let found = lookUpJob(ofProcess: pid)
        nvmlJobOfProcess[pid] = .some(found)
        return found
    }

    private func lookUpJob(ofProcess pid: Int32) -> String? {
        if cgroups != nil, let cgroup = CgroupJobs.currentCgroup(of: pid, procfs: procfs) {
            var best: (key: String, length: Int)?
            for (key, job) in active {
                guard case .cgroup(let path) = job.tracking, cgroup == path || cgroup.hasPrefix(path + "/") else { continue }
                if path.count > best?.length ?? -1 { best = (key, path.count) }
            }
            if let best { return best.key }
        }
        var roots: [Int32: String] = [:]
        for (key, job) in active { if case .processTree(let root) = job.tracking { roots[root] = key } }
        guard !roots.isEmpty else { return nil }
        var current = pid
        for _ in 0..<64 {
            if let key = roots[current] { return key }
            guard current > 1, let parent = ProcessTreeUsage(procfs: procfs).parent(of: current) else { return nil }
            current = parent
        }
        return nil
    }
}
