import Foundation

/// The fake NVML of `Tests/Fixtures/fake-nvml` (a C shared library, built here once per test
/// process), copied into a directory of its own, with the script it answers from. ergod loads
/// it by `gpu.nvml_library` through the same dlopen path as the driver's library.
public final class FakeNVML: Sendable {
    /// One scripted GPU.
    public struct GPU: Sendable {
        public var index: Int
        public var watts: Double
        public var energyCounter = true
        public var power = true
        public var mig = false
        public var lost = false
        public var reload = 0

        public init(index: Int, watts: Double, energyCounter: Bool = true) {
            self.index = index
            self.watts = watts
            self.energyCounter = energyCounter
        }

        public var uuid: String { "GPU-fa4e0000-0000-4000-8000-00000000000\(index)" }
        public var pciSlot: String { "0000:\(String(format: "%02x", 0x3b + index)):00.0" }
        public var domain: String { "gpu-" + pciSlot }
    }

    /// One scripted compute process: `sm` nil holds the GPU without a utilization sample.
    public struct Process: Sendable {
        public var gpu: Int
        public var pid: Int32
        public var sm: Int?
        public init(gpu: Int, pid: Int32, sm: Int?) {
            self.gpu = gpu
            self.pid = pid
            self.sm = sm
        }
    }

    public let directory: String
    /// What `gpu.nvml_library` names.
    public let libraryPath: String

    /// A copy of the fake; `lackingProcessUtilization` builds the one without
    /// nvmlDeviceGetProcessUtilization.
    public init(lackingProcessUtilization: Bool = false) throws {
        directory = try Fixtures.temporaryDirectory()
        libraryPath = directory + "/libnvidia-ml.so.1"
        try FileManager.default.copyItem(atPath: try Self.built(lackingProcessUtilization: lackingProcessUtilization), toPath: libraryPath)
    }

    /// Writes the script (atomically, as a new file) and waits past the fake's 1 ms re-check.
    public func write(clockMilliseconds: UInt64?, gpus: [GPU], processes: [Process] = [], phantoms: [Int: Int] = [:]) throws {
        var lines: [String] = []
        if let clockMilliseconds { lines.append("clock \(clockMilliseconds)") }
        for gpu in gpus {
            var line = "gpu \(gpu.index) uuid=\(gpu.uuid) name=NVIDIA_H100_80GB_HBM3 pci=\(gpu.pciSlot) watts=\(gpu.watts)"
            if !gpu.energyCounter { line += " energy=no" }
            if !gpu.power { line += " power=no" }
            if gpu.mig { line += " mig=1" }
            if gpu.lost { line += " lost=1" }
            line += " reload=\(gpu.reload)"
            lines.append(line)
        }
        for process in processes { lines.append("process \(process.gpu) \(process.pid) \(process.sm ?? -1)") }
        for (gpu, count) in phantoms { lines.append("phantoms \(gpu) \(count)") }
        let temporary = libraryPath + ".script.new"
        try (lines.joined(separator: "\n") + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, libraryPath + ".script") == 0 else { throw FixtureError("cannot rename the fake NVML's script") }
        usleep(3_000)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    private static let builds = BuildCache()

    /// The fake, compiled once per process and variant.
    static func built(lackingProcessUtilization: Bool) throws -> String {
        try builds.path(variant: lackingProcessUtilization ? "no-process-utilization" : "full") { output in
            let compiler = ["/opt/swift/usr/bin/clang", "/usr/bin/cc", "/usr/bin/clang", "/usr/bin/gcc"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let compiler else { throw FixtureError("no C compiler (clang from the Swift toolchain, or cc) to build the fake NVML") }
            var arguments = ["-shared", "-fPIC", "-O2", "-o", output, Fixtures.path("fake-nvml/fake_nvml.c")]
            if lackingProcessUtilization { arguments.insert("-DFAKE_NVML_NO_PROCESS_UTILIZATION", at: 0) }
            try Fixtures.run(compiler, arguments)
        }
    }

    final class BuildCache: @unchecked Sendable {
        let lock = NSLock()
        var paths: [String: String] = [:]

        func path(variant: String, build: (String) throws -> Void) throws -> String {
            lock.lock()
            defer { lock.unlock() }
            if let known = paths[variant] { return known }
            let output = try Fixtures.temporaryDirectory() + "/libfake-nvml-\(variant).so"
            try build(output)
            paths[variant] = output
            return output
        }
    }
}
