import ErgometerCore
import ErgometerProbes

extension Sampler {
    /// Each NVIDIA GPU's use this tick, from the processes NVML lists on it: each process's
    /// weight (`GPUProcessUse.weight`) goes to its job (the innermost, by cgroup or process
    /// tree), or to the GPU's use outside every job. Only processes new on a GPU are looked up
    /// (`GPUProcessJobs`).
    func observeNVMLUse(now: UInt64) {
        guard !meters.nvmlDomains.isEmpty else { return }
        gpuProcessJobs.beginTick(now: now)
        defer { gpuProcessJobs.endTick() }
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
        gpuProcessJobs.job(of: pid, index: { jobIndex() }, lookUp: lookUpJob)
    }

    /// Each cgroup job by its cgroup path, each process-tree job by its root (only the
    /// schedulers' jobs when `schedulersOnly`).
    func jobIndex(schedulersOnly: Bool = false) -> GPUProcessJobs.JobIndex {
        var found = GPUProcessJobs.JobIndex()
        var index = active.startIndex  // by position: a job is not copied to read its tracking
        while index != active.endIndex {
            defer { active.formIndex(after: &index) }
            if schedulersOnly && active.values[index].stored.scheduler == nil { continue }
            let key = active.keys[index]
            switch active.values[index].tracking {
            case .cgroup(let path): found.cgroups[path] = key
            case .cgroupV1(let path): found.cgroupsV1[path] = key
            case .processTree(let root): found.processTreeRoots[root] = key
            }
            if let enclosing = active.values[index].enclosingJob { found.enclosing[key] = enclosing }
        }
        return found
    }

    /// The jobs holding a process: by its cgroup in each hierarchy (the folder it is in, then
    /// each one above it) and by its ancestors; the innermost of them.
    func lookUpJob(ofProcess pid: Int32, in jobs: GPUProcessJobs.JobIndex) -> String? {
        var candidates: [String] = []
        if !jobs.cgroups.isEmpty || !jobs.cgroupsV1.isEmpty, let where_ = ProcessCgroups.of(pid, procfs: procfs) {
            for (path, table) in [(where_.unified, jobs.cgroups), (where_.cpuacct, jobs.cgroupsV1)] {
                guard let path, !table.isEmpty, let key = Self.nearestJob(of: path, in: table) else { continue }
                candidates.append(key)
            }
        }
        if !jobs.processTreeRoots.isEmpty {
            var current = pid
            for _ in 0..<64 {
                if let key = jobs.processTreeRoots[current] {
                    candidates.append(key)
                    break
                }
                guard current > 1, let parent = ProcessTreeUsage(procfs: procfs).parent(of: current) else { break }
                current = parent
            }
        }
        return candidates.count <= 1 ? candidates.first : jobs.innermost(candidates)
    }

    /// The job whose cgroup is `cgroup` or the nearest folder above it.
    static func nearestJob(of cgroup: String, in table: [String: String]) -> String? {
        var path = Substring(cgroup)
        while !path.isEmpty {
            if let key = table[String(path)] { return key }
            guard let slash = path.lastIndex(of: "/") else { break }
            path = path[..<slash]
        }
        return nil
    }
}
