#if canImport(Glibc)
import Glibc
#endif

/// The process's limit on open descriptors. ergod keeps each running job's `cpu.stat` open and
/// may hold `control.max_connections` connections: more descriptors than the default soft
/// limit of 1024, beyond which a job's counter could not be opened and its tick would count no
/// CPU.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard one (at most 65536), as Go programs do at start.
    public static func raise() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, 65536)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            _ = setrlimit(resource, &limit)
        }
    }
}
