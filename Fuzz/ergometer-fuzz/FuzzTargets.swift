import ErgometerCore
import ErgometerDaemon
import ErgometerProbes
import ErgometerTestSupport
import ErgometerWire
import Foundation

/// The parsers a stranger can feed: ergod's configuration and the carbon CSV it names, job spec
/// files (`ergo compare`), the control API's request bodies, and the kernel files the probes
/// read (a fixture tree, a bind mount or a broken driver can put anything there).
enum FuzzTargets {
    static let all: [FuzzTarget] = [
        config, jobSpec, rateCSV, listenAddress, registerBody, progressBody, endBody, counter, cgroupCPUStat, procStat, cpuInfo,
        mountInfo, sysfsFile,
    ]

    static func file(_ relative: String) -> [UInt8] {
        (try? Data(contentsOf: URL(fileURLWithPath: Fixtures.packageRoot + "/" + relative))).map { Array($0) } ?? []
    }

    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    static let config = FuzzTarget(
        name: "config", summary: "ergod's TOML configuration (ConfigurationLoader.parse)",
        seeds: [file("Config/ergometer.toml"), text("[daemon]\ninterval_seconds = 2\n[control]\nadmin_group = \"root\"\nmax_active_jobs = 5\n")],
        dictionary: ["[", "]", "[[", "]]", "=", "\"", "'", "\"\"\"", "#", "\n", ".", "{", "}", ",", "true", "1979-05-27T07:32:00Z", "[daemon]", "[metrics]", "[control]", "interval_seconds", "listen"]
    ) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let configuration = try ConfigurationLoader.parse(text, file: "fuzz.toml")
            let problems = configuration.validationProblems()
            return problems.isEmpty ? .accepted : .violation("accepted a configuration with problems: \(problems)")
        } catch let error as ConfigurationError {
            return error.problems.isEmpty ? .violation("refused without naming a problem") : .rejected
        } catch {
            return .violation("an error of another kind: \(error)")
        }
    }

    static let jobSpec = FuzzTarget(
        name: "job-spec", summary: "`ergo compare` spec files (JobSpec.parse)",
        seeds: [
            text(#"{"name": "big", "processors": 16, "processor_model": "V100", "duration_seconds": 2000, "flops_per_processor_second": 1.25e15, "throughput_kind": "achieved", "power_watts_per_processor": 250}"#),
            text(#"{"name": "a", "processors": 1, "processor_model": "K80", "duration_seconds": 10, "flops": 1e12, "energy_joules": 5}"#),
        ],
        dictionary: ["{", "}", "[", "]", ":", ",", "\"", "null", "true", "false", "\"flops\"", "\"processors\"", "\"throughput_kind\"", "\"peak\"", "\\u0000", "\\ud800"]
    ) { bytes in
        do {
            let spec = try JobSpec.parse(bytes, file: "fuzz.json")
            let numbers = [spec.processors, spec.durationSeconds, spec.flops ?? 1, spec.flopsPerProcessorSecond ?? 1, spec.energyJoules ?? 1, spec.powerWattsPerProcessor ?? 1]
            guard numbers.allSatisfy({ $0.isFinite && $0 > 0 }) else { return .violation("accepted a spec with a number that is not positive and finite: \(spec)") }
            guard (spec.flops == nil) != (spec.flopsPerProcessorSecond == nil) else { return .violation("accepted both or neither of flops and flops_per_processor_second") }
            return .accepted
        } catch let error as JobSpec.Invalid {
            return error.problems.isEmpty ? .violation("refused without naming a problem") : .rejected
        } catch {
            return .violation("an error of another kind: \(error)")
        }
    }

    static let rateCSV = FuzzTarget(
        name: "rate-csv", summary: "carbon intensity and price series (RateScheduleCSV.parse)",
        seeds: [text("timestamp,grams_per_kwh\n1700000000,300\n1700003600,250.5\n"), text("2024-01-01T00:00:00Z,100\n2024-01-01T01:00:00Z,90\n")],
        dictionary: [",", "\n", "\r\n", "T", "Z", ":", "-", "timestamp", "2024-02-30T25:61:61Z", "#"]
    ) { bytes in
        do {
            let schedule = try RateScheduleCSV.parse(String(decoding: bytes, as: UTF8.self))
            for (start, end) in [(0.0, 1.0), (1.7e9, 1.7e9 + 3600), (-1e12, 1e12)] {
                let average = schedule.average(from: start, to: end)
                guard average.isFinite else { return .violation("average over \(start)...\(end) is \(average)") }
            }
            return .accepted
        } catch {
            return .rejected
        }
    }

    static let listenAddress = FuzzTarget(
        name: "listen", summary: "metrics.listen / --listen addresses (ListenAddress.parse)",
        seeds: [text("127.0.0.1:9477"), text("[::1]:9477"), text("off"), text("localhost:80")],
        dictionary: ["[", "]", ":", ".", "%", "65536", "0", "off"]
    ) { bytes in
        do {
            guard let address = try ListenAddress.parse(String(decoding: bytes, as: UTF8.self)) else { return .accepted }
            // Port 0 is documented: any free port, logged at start.
            return (0...65535).contains(address.port) && !address.host.isEmpty ? .accepted : .violation("accepted \(address)")
        } catch {
            return .rejected
        }
    }

    static let registerBody = FuzzTarget(
        name: "register-body", summary: "POST /v1/jobs bodies (RegisterJobRequest and its bounds)",
        seeds: [text(#"{"name":"train","job_id":"fleet-1","labels":{"team":"vision"},"command":["./train","--epochs","3"],"pid":4242,"processors":8}"#)],
        dictionary: ["{", "}", "[", "]", ":", ",", "\"", "null", "\"labels\"", "\"pid\"", "\"processors\"", "-2147483649", "\\n", "\\\"", "\\u00e9"]
    ) { bytes in
        guard let request = try? JSONDecoder().decode(RegisterJobRequest.self, from: Data(bytes)) else { return .rejected }
        guard request.problem == nil else { return .rejected }
        let bounded = request.pid > 0 && !request.name.isEmpty && request.name.utf8.count <= RegisterJobRequest.maximumNameLength
            && request.labels.count <= RegisterJobRequest.maximumLabels
            && request.labels.allSatisfy { RegisterJobRequest.isLabelKey($0.key) && $0.value.utf8.count <= RegisterJobRequest.maximumLabelValueLength }
            && request.command.count <= RegisterJobRequest.maximumCommandArguments && (request.processors ?? 1) >= 1
        return bounded ? .accepted : .violation("accepted an unbounded registration")
    }

    static let progressBody = FuzzTarget(
        name: "progress-body", summary: "POST /v1/jobs/{id}/progress bodies (JobProgress and its bounds)",
        seeds: [text(#"{"flops":1.5e12,"steps":10,"samples":640,"metrics":{"loss":0.31,"error_rate":0.12},"sequence":7}"#)],
        dictionary: ["{", "}", ":", ",", "\"", "null", "1e308", "-1", "\"metrics\"", "\"flops\"", "NaN", "Infinity"]
    ) { bytes in
        guard let progress = try? JSONDecoder().decode(JobProgress.self, from: Data(bytes)) else { return .rejected }
        guard progress.problem == nil else { return .rejected }
        let bounded = progress.flops.isFinite && progress.flops >= 0 && progress.steps >= 0 && progress.samples >= 0
            && progress.metrics.count <= JobProgress.maximumMetrics && progress.metrics.values.allSatisfy(\.isFinite)
        return bounded ? .accepted : .violation("accepted an unbounded report: \(progress)")
    }

    static let endBody = FuzzTarget(
        name: "end-body", summary: "POST /v1/jobs/{id}/end bodies (EndJobRequest)",
        seeds: [text(#"{"exit_status":0}"#), text(#"{"exit_status":-9}"#)],
        dictionary: ["{", "}", ":", "\"exit_status\"", "2147483648", "null"]
    ) { bytes in
        (try? JSONDecoder().decode(EndJobRequest.self, from: Data(bytes))) == nil ? .rejected : .accepted
    }

    static let counter = FuzzTarget(
        name: "counter", summary: "energy_uj, max_energy_range_uj, temp*_input (SysfsFile.parseUInt64/parseInt64), against Swift's own integer parsing",
        seeds: [text("183764328151\n"), text("262143328850\n"), text("-4500\n"), text("0"), text("18446744073709551615\n")],
        dictionary: ["\n", " ", "-", "\u{0}"]
    ) { bytes in
        // The reference: the digits before the first newline, space or NUL, read by Swift.
        let end = bytes.firstIndex { $0 == 0x0A || $0 == 0x20 || $0 == 0x00 } ?? bytes.count
        let field = String(decoding: bytes[..<end], as: UTF8.self)
        let allDigits = !field.isEmpty && field.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let expectedUnsigned = allDigits ? UInt64(field) : nil
        let signedDigits = field.hasPrefix("-") ? String(field.dropFirst()) : field
        let signedOK = !signedDigits.isEmpty && signedDigits.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        let expectedSigned = signedOK ? Int64(field).flatMap { $0 == Int64.min ? nil : $0 } : nil
        let (unsigned, signed) = bytes.withUnsafeBufferPointer { (SysfsFile.parseUInt64($0), SysfsFile.parseInt64($0)) }
        if unsigned != expectedUnsigned { return .violation("parseUInt64 gave \(String(describing: unsigned)), Swift \(String(describing: expectedUnsigned))") }
        if signed != expectedSigned { return .violation("parseInt64 gave \(String(describing: signed)), Swift \(String(describing: expectedSigned))") }
        return unsigned == nil && signed == nil ? .rejected : .accepted
    }

    static let cgroupCPUStat = FuzzTarget(
        name: "cpu-stat", summary: "a job cgroup's cpu.stat (CgroupV2.parseUsage), against a line-by-line reference",
        seeds: [text("usage_usec 123456789\nuser_usec 100000000\nsystem_usec 23456789\nnr_periods 0\n"), text("usage_usec 0\n")],
        dictionary: ["usage_usec ", "\n", " ", "user_usec "]
    ) { bytes in
        var expected: UInt64?
        var found = false
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) where !found && line.starts(with: Array("usage_usec ".utf8)) {
            found = true
            let digits = line.dropFirst(11).prefix { $0 >= 0x30 && $0 <= 0x39 }
            expected = digits.isEmpty ? nil : UInt64(String(decoding: digits, as: UTF8.self))
        }
        let parsed = bytes.withUnsafeBufferPointer(CgroupV2.parseUsage(bytes:))
        if parsed != expected { return .violation("parseUsage gave \(String(describing: parsed)), the reference \(String(describing: expected))") }
        return parsed == nil ? .rejected : .accepted
    }

    static let procStat = FuzzTarget(
        name: "proc-stat", summary: "/proc/stat (ProcStatReader.parse)",
        seeds: [file("Tests/Fixtures/intel-1s/proc/stat"), file("Tests/Fixtures/amd/proc/stat"), file("Tests/Fixtures/intel-2s/proc/stat")],
        dictionary: ["cpu ", "cpu0 ", "cpu", "\n", " ", "intr ", "ctxt "]
    ) { bytes in
        guard let stat = bytes.withUnsafeBufferPointer(ProcStatReader.parse(bytes:)) else { return .rejected }
        let lines = bytes.split(separator: 0x0A).count
        return stat.perCPU.count < max(lines, 1) ? .accepted : .violation("\(stat.perCPU.count) CPUs from \(lines) lines")
    }

    static let cpuInfo = FuzzTarget(
        name: "cpuinfo", summary: "/proc/cpuinfo (CPUInfoReader.parse)",
        seeds: [file("Tests/Fixtures/intel-1s/proc/cpuinfo"), file("Tests/Fixtures/amd/proc/cpuinfo")],
        dictionary: ["processor\t: ", "model name\t: ", "physical id\t: ", "flags\t\t: hypervisor", "\n\n", ":"]
    ) { bytes in
        guard let info = CPUInfoReader.parse(String(decoding: bytes, as: UTF8.self)[...]) else { return .rejected }
        return info.logicalCPUs >= 1 && info.sockets >= 1 ? .accepted : .violation("\(info.logicalCPUs) CPUs on \(info.sockets) sockets")
    }

    static let mountInfo = FuzzTarget(
        name: "mountinfo", summary: "/proc/self/mountinfo, where the cgroup2 hierarchy is found (CgroupV2.parseMountPoint)",
        seeds: [text("24 30 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n35 24 0:30 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"),
                text("29 24 0:26 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw\n")],
        dictionary: [" - ", "cgroup2", "\\040", "\\134", " ", "\n", "/"]
    ) { bytes in
        guard let mount = CgroupV2.parseMountPoint(mountinfo: String(decoding: bytes, as: UTF8.self)[...]) else { return .rejected }
        return mount.isEmpty ? .violation("an empty mount point") : .accepted
    }

    /// The same numbers and text through real files: empty, a page, far larger than a page.
    static let sysfsFile = FuzzTarget(
        name: "sysfs-file", summary: "whole sysfs/proc files through SysfsFile's readers (empty, one page, many pages)",
        seeds: [text("183764328151\n"), text("coretemp\n"), file("Tests/Fixtures/intel-1s/proc/stat")],
        dictionary: ["\n", " ", "-", "\u{0}"]
    ) { bytes in
        let path = FuzzTargets.scratchFile
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return .violation("cannot write \(path)") }
        let text = SysfsFile.readText(path)
        guard case .success(let read) = text, read == String(decoding: bytes, as: UTF8.self) else {
            return .violation("readText did not return the file's \(bytes.count) bytes")
        }
        // A number attribute of 512 bytes or more is refused, not read in part.
        let expected = bytes.count >= 512 ? nil : bytes.withUnsafeBufferPointer(SysfsFile.parseUInt64)
        let number = try? SysfsFile.readUInt64(path).get()
        if number != expected { return .violation("readUInt64 gave \(String(describing: number)), the file parses as \(String(describing: expected))") }
        _ = SysfsFile.readLine(path)
        _ = SysfsFile.readInt64(path)
        return number == nil ? .rejected : .accepted
    }

    /// Not a parser: traps on purpose, so a test can check that a crash keeps its input.
    static let selfTestCrash = FuzzTarget(name: "self-test-crash", summary: "traps on every input", seeds: [text("crash")], dictionary: []) { bytes in
        precondition(bytes.isEmpty, "self-test-crash: a deliberate trap")
        return .rejected
    }

    nonisolated(unsafe) static var scratchFile = FileManager.default.temporaryDirectory.appendingPathComponent("ergometer-fuzz-\(getpid())").path
}
