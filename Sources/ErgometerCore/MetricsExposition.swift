/// Renders a `MetricsSnapshot` as Prometheus text: every family with HELP and TYPE, units in
/// the names (`_joules_total`, `_watts`, `_celsius`, `_seconds`), labels escaped.
public enum MetricsExposition {
    /// The families ergod exports, in order; the dashboard and the docs name only these.
    public static let familyNames = [
        "ergometer_energy_joules_total", "ergometer_power_watts", "ergometer_rapl_zone_energy_joules_total",
        "ergometer_rapl_zone_power_watts", "ergometer_temperature_celsius",
        "ergometer_cpu_busy_ratio", "ergometer_gpu_utilization_ratio", "ergometer_gpu_lost", "ergometer_job_energy_joules_total", "ergometer_job_power_watts",
        "ergometer_job_cpu_seconds_total", "ergometer_job_co2_grams_total", "ergometer_idle_energy_joules_total",
        "ergometer_system_energy_joules_total", "ergometer_sampler_tick_seconds", "ergometer_sampler_tick_lateness_seconds",
        "ergometer_probe_errors_total", "ergometer_build_info",
    ]

    public static func render(_ snapshot: MetricsSnapshot) -> [UInt8] {
        var out = PrometheusTextWriter(reservingCapacity: 2048 + snapshot.jobs.count * 700)

        out.family("ergometer_energy_joules_total", type: .counter, help: "Energy since ergod started per domain (cpu-package, dram, gpu, platform, rest) and source (rapl, hwmon-energy, hwmon-power, nvml-energy, nvml-power, model), floored to the export resolution. The box: sum over kinds cpu-package, dram, gpu and rest.")
        for domain in snapshot.domains {
            out.sample("ergometer_energy_joules_total", labels: domainLabels(domain), value: joules(domain.microjoules))
        }
        out.family("ergometer_power_watts", type: .gauge, help: "Average power over the last publication interval, per domain and source, from the exported energy.")
        for domain in snapshot.domains {
            out.sample("ergometer_power_watts", labels: domainLabels(domain), value: domain.watts)
        }
        out.family("ergometer_rapl_zone_energy_joules_total", type: .counter, help: "Energy since ergod started per RAPL zone (packages and DRAM, the zones in the cpu-package and dram domains), floored to the export resolution.")
        for zone in snapshot.zones {
            out.sample("ergometer_rapl_zone_energy_joules_total", labels: zoneLabels(zone), value: joules(zone.microjoules))
        }
        out.family("ergometer_rapl_zone_power_watts", type: .gauge, help: "Average power over the last publication interval, per RAPL zone.")
        for zone in snapshot.zones {
            out.sample("ergometer_rapl_zone_power_watts", labels: zoneLabels(zone), value: zone.watts)
        }
        out.family("ergometer_temperature_celsius", type: .gauge, help: "Temperature sensors (libsensors names) at the last tick.")
        var seen = Set<String>()
        for reading in snapshot.temperatures {
            // Two sensors with one label on one chip (lm-sensors allows it) stay two series.
            var sensor = reading.sensor
            if !seen.insert(reading.chip + "\u{0}" + sensor).inserted {
                sensor += " (\(reading.feature))"
                guard seen.insert(reading.chip + "\u{0}" + sensor).inserted else { continue }
            }
            out.sample("ergometer_temperature_celsius", labels: ["chip": reading.chip, "sensor": sensor], value: reading.celsius)
        }
        out.family("ergometer_cpu_busy_ratio", type: .gauge, help: "Busy share of all CPUs over the last tick, from /proc/stat (0 to 1).")
        if let busy = snapshot.cpuBusyRatio { out.sample("ergometer_cpu_busy_ratio", value: busy) }
        out.family("ergometer_gpu_utilization_ratio", type: .gauge, help: "Share of the last sample period an NVIDIA GPU ran a kernel (NVML utilization, 0 to 1), per GPU.")
        for gpu in snapshot.gpus {
            guard let ratio = gpu.utilizationRatio else { continue }
            out.sample("ergometer_gpu_utilization_ratio", labels: ["uuid": gpu.uuid, "domain": gpu.domain], value: ratio)
        }
        out.family("ergometer_gpu_lost", type: .gauge, help: "1 while an NVIDIA GPU answers GPU_IS_LOST (its domain keeps its energy so far and counts nothing), else 0.")
        for gpu in snapshot.gpus {
            out.sample("ergometer_gpu_lost", labels: ["uuid": gpu.uuid, "domain": gpu.domain], value: gpu.lost ? 1 : 0)
        }

        out.family("ergometer_job_energy_joules_total", type: .counter, help: "Energy attributed to the job per domain kind (cpu-package and dram by CPU time, gpu by its processes' use, rest by its share of the components), idle included by policy, each floored to the export resolution; the sum over kinds is the job's energy.")
        for job in snapshot.jobs {
            for (index, microjoules) in job.microjoulesByKind.enumerated() where microjoules > 0 {
                out.sample("ergometer_job_energy_joules_total", labels: jobLabels(job, kind: DomainKind.allCases[index]), value: joules(microjoules))
            }
        }
        out.family("ergometer_job_power_watts", type: .gauge, help: "Average power attributed to the job over the last publication interval.")
        for job in snapshot.jobs {
            out.sample("ergometer_job_power_watts", labels: jobLabels(job), value: job.watts)
        }
        out.family("ergometer_job_cpu_seconds_total", type: .counter, help: "CPU time of the job's processes (cgroup cpu.stat, or their /proc/PID/stat).")
        for job in snapshot.jobs {
            out.sample("ergometer_job_cpu_seconds_total", labels: jobLabels(job), value: Double(job.cpuMicroseconds) / 1e6)
        }
        out.family("ergometer_job_co2_grams_total", type: .counter, help: "Estimated CO2e of the job's energy: grid intensity over time, times PUE.")
        for job in snapshot.jobs {
            out.sample("ergometer_job_co2_grams_total", labels: jobLabels(job), value: job.co2Grams)
        }
        out.family("ergometer_idle_energy_joules_total", type: .counter, help: "Host energy kept in the idle bucket (idle_policy separate, or no job running), floored to the export resolution.")
        out.sample("ergometer_idle_energy_joules_total", value: joules(snapshot.idleMicrojoules))
        out.family("ergometer_system_energy_joules_total", type: .counter, help: "Host energy of busy CPU time outside every job, floored to the export resolution.")
        out.sample("ergometer_system_energy_joules_total", value: joules(snapshot.systemMicrojoules))

        out.family("ergometer_sampler_tick_seconds", type: .histogram, help: "Time one sampler tick took: reads, attribution, bookkeeping.")
        out.histogram("ergometer_sampler_tick_seconds", snapshot.tickSeconds)
        out.family("ergometer_sampler_tick_lateness_seconds", type: .histogram, help: "How late each tick started against its schedule (sampling jitter).")
        out.histogram("ergometer_sampler_tick_lateness_seconds", snapshot.tickLatenessSeconds)
        out.family("ergometer_probe_errors_total", type: .counter, help: "Failed reads per probe (rapl, hwmon, nvml, procstat, cgroup, temperature, store) since ergod started; platform_below_components counts ticks where the components drew more than the platform meter.")
        for probe in snapshot.probeErrors.keys.sorted() {
            out.sample("ergometer_probe_errors_total", labels: ["probe": probe.rawValue], value: Double(snapshot.probeErrors[probe] ?? 0))
        }
        out.family("ergometer_build_info", type: .gauge, help: "Always 1; the version of ergod in a label.")
        out.sample("ergometer_build_info", labels: ["version": snapshot.version], value: 1)
        return out.bytes
    }

    static func joules(_ microjoules: UInt64) -> Double {
        Double(microjoules) / 1e6
    }

    static func domainLabels(_ domain: MetricsSnapshot.Domain) -> KeyValuePairs<String, String> {
        ["domain": domain.domain, "kind": domain.kind.rawValue, "source": domain.source.rawValue]
    }

    static func jobLabels(_ job: MetricsSnapshot.Job, kind: DomainKind) -> KeyValuePairs<String, String> {
        ["job_id": job.id, "job_name": job.name, "user": job.user, "kind": kind.rawValue]
    }

    static func zoneLabels(_ zone: MetricsSnapshot.Zone) -> KeyValuePairs<String, String> {
        ["zone": zone.zone, "domain": zone.domain, "socket": zone.socket.map(String.init) ?? "", "source": zone.source.rawValue]
    }

    static func jobLabels(_ job: MetricsSnapshot.Job) -> KeyValuePairs<String, String> {
        ["job_id": job.id, "job_name": job.name, "user": job.user]
    }
}
