#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ErgometerCore

/// The messages a person reads in `errors`: what failed, why, and what to do.
enum ProbeIssueMessages {
    static func energyCounter(_ error: FileReadError) -> ProbeIssue {
        let message: String
        if error.isPermissionDenied {
            message = "permission denied: since Linux 5.10 (the PLATYPUS fix, CVE-2020-8694) energy_uj is readable by root only. Run as root (sudo ergo probe) or through the ergod systemd unit; until then this zone is not measured and power falls back to the model"
        } else if error.errno == EINVAL || error.errno == ENODATA || error.errno == EIO {
            message = "the kernel refused the read (\(FileReadError.symbol(error.errno))); this zone is skipped, the other zones still read. Some firmware exposes zones it cannot measure; check `dmesg | grep -i rapl`"
        } else {
            message = describe(error) + "; this zone is skipped, the other zones still read"
        }
        return ProbeIssue(path: error.path, message: message)
    }

    static func missingMaxRange(_ error: FileReadError) -> ProbeIssue {
        ProbeIssue(
            path: error.path,
            message: describe(error) + ": without max_energy_range_uj a counter wrap cannot be corrected, so a reading below the previous one is treated as a reset (that interval's energy is estimated by the model)"
        )
    }

    static func noPowercap(_ error: FileReadError) -> ProbeIssue {
        let message: String
        if error.isMissing {
            message = "no powercap tree: this machine exposes no RAPL energy counters (a VM, a cloud instance, or a kernel without the intel_rapl_msr / intel_rapl_common modules; try `modprobe intel_rapl_msr` on bare metal). Power is estimated by the model: idle + (TDP − idle) × utilization; give the TDP with --tdp-watts for a better estimate"
        } else {
            message = describe(error) + "; power is estimated by the model"
        }
        return ProbeIssue(path: error.path, message: message)
    }

    static func unreadable(_ error: FileReadError, consequence: String) -> ProbeIssue {
        ProbeIssue(path: error.path, message: describe(error) + "; " + consequence)
    }

    static func describe(_ error: FileReadError) -> String {
        if error.errno == 0 { return "unexpected content \(error.detail ?? "")" }
        if error.isPermissionDenied { return "permission denied (run as root or through the ergod unit)" }
        if error.isMissing { return "missing (\(FileReadError.symbol(error.errno)))" }
        return "\(String(cString: strerror(error.errno))) (\(FileReadError.symbol(error.errno)))"
    }
}
