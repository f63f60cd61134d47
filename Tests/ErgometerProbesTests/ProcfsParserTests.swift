import ErgometerCore
import ErgometerProbes
import ErgometerTestSupport
import Foundation
import Testing

struct ProcfsParserTests {
    /// The live /proc and /sys are kept open; a fixture tree is not (its writers rename files).
    @Test func onlyTheKernelsOwnFilesAreKeptOpen() throws {
        #expect(KernelFileSystem.isGenerated("/proc/stat"))
        #expect(KernelFileSystem.isGenerated("/sys/kernel"))
        #expect(!KernelFileSystem.isGenerated(Fixtures.path("intel-1s") + "/proc/stat"))
        #expect(!KernelFileSystem.isGenerated("/no/such/file"))
        // Kept open, /proc/stat reads the same CPUs as opened afresh, and moves on between reads.
        let file = try #require(KernelFileSystem.keptOpenIfSafe("/proc/stat", treeChangesInPlace: false))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { buffer.deallocate() }
        let kept = try ProcStatReader.read(file: file, buffer: buffer).get()
        let fresh = try ProcStatReader.read(procfs: ProcFS(root: "/proc")).get()
        #expect(kept.perCPU.count == fresh.perCPU.count && kept.perCPU.count > 0)
        usleep(50_000)  // five USER_HZ ticks on every CPU, busy or idle
        let later = try ProcStatReader.read(file: file, buffer: buffer).get()
        #expect(later.total.busyTicks + later.total.idleTicks > kept.total.busyTicks + kept.total.idleTicks)
    }

    /// A fixture tree whose writers change files in place (`daemon.roots_change_in_place`) is
    /// kept open too, and a kept descriptor reads each value written since.
    @Test func aTreeChangedInPlaceIsKeptOpen() throws {
        let root = try Fixtures.scratchCopy(of: "intel-1s")
        let path = root + "/sys/class/powercap/intel-rapl:0/energy_uj"
        #expect(KernelFileSystem.keptOpenIfSafe(path, treeChangesInPlace: false) == nil)
        let file = try #require(KernelFileSystem.keptOpenIfSafe(path, treeChangesInPlace: true))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { buffer.deallocate() }
        for value in [UInt64(123_456_789), 5, 98_765_432_109] {
            let descriptor = open(path, O_WRONLY | O_TRUNC)
            #expect(descriptor >= 0)
            let text = Array("\(value)\n".utf8)
            #expect(Glibc.write(descriptor, text, text.count) == text.count)
            close(descriptor)
            #expect(try file.read(into: buffer, SysfsFile.parseUInt64).get() == value)
        }
        #expect(file.isOpen)
    }

    @Test func statSeparatesBusyIdleAndSteal() throws {
        let stat = try #require(ProcStatReader.parse("cpu  10 2 3 100 4 5 6 7 8 9\ncpu0 10 2 3 100 4 5 6 7 8 9\nintr 1\n"))
        #expect(stat.total == CPUTimes(busyTicks: 10 + 2 + 3 + 5 + 6, idleTicks: 104, stealTicks: 7))
        #expect(stat.perCPU.map(\.cpu) == [0])
    }

    @Test func statFromOldKernelsWithFewerColumns() throws {
        let stat = try #require(ProcStatReader.parse("cpu 1 2 3 4\ncpu0 1 2 3 4\n"))
        #expect(stat.total == CPUTimes(busyTicks: 6, idleTicks: 4))
    }

    @Test(arguments: ["", "intr 5\n", "cpu x y z\n", "\u{FFFD}\u{0}garbage"])
    func statWithoutACPULineIsNil(_ text: String) {
        #expect(ProcStatReader.parse(text[...]) == nil)
    }

    /// Found by ergometer-fuzz: fields near 2^64 made the busy sum overflow (a trap in the
    /// sampler); a wrapped digit run made garbage look like a counter.
    @Test(arguments: [
        "cpu  400 9223372036854775807 9223372036854775807 30000 0 0 0 0\n",
        "cpu  400 92233720368547758070 2000 30000 0 0 0 0\n",
    ])
    func statWithNumbersNoKernelWritesIsRefused(text: String) {
        #expect(ProcStatReader.parse(text[...]) == nil)
    }

    @Test func cpuStatBeyondUInt64IsRefusedNotWrapped() {
        #expect(CgroupV2.parseUsage(cpuStat: "usage_usec 18446744073709551615\n") == UInt64.max)
        #expect(CgroupV2.parseUsage(cpuStat: "usage_usec 18446744073709551616\n") == nil)
        #expect(CgroupV2.parseUsage(cpuStat: "usage_usec 99999999999999999999999\nuser_usec 1\n") == nil)
    }

    @Test func cpuinfoOfAnIntelBox() throws {
        let info = try CPUInfoReader.read(procfs: ProcFS(root: Fixtures.path("intel-2s/proc"))).get()
        #expect(info == CPUInfo(model: "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", logicalCPUs: 4, sockets: 2, virtualized: false))
    }

    @Test func cpuinfoOfAVM() throws {
        let info = try CPUInfoReader.read(procfs: ProcFS(root: Fixtures.path("no-powercap/proc"))).get()
        #expect(info.virtualized)
        #expect(info.logicalCPUs == 2)
        #expect(info.sockets == 1)
    }

    @Test func cpuinfoOfAnArmBoardFallsBackToModel() throws {
        let text = "processor\t: 0\nBogoMIPS\t: 108.00\nCPU part\t: 0xd08\n\nprocessor\t: 1\n\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
        let info = try #require(CPUInfoReader.parse(text[...]))
        #expect(info.model == "Raspberry Pi 4 Model B Rev 1.4")
        #expect(info.logicalCPUs == 2)
    }

    @Test func meminfoTotalInBytes() throws {
        #expect(KernelIdentityReader.parseMemTotal("MemTotal:       16324412 kB\nMemFree: 1 kB\n") == 16_324_412 * 1024)
        #expect(KernelIdentityReader.parseMemTotal("MemFree: 1 kB\n") == nil)
        #expect(try KernelIdentityReader.memoryTotalBytes(procfs: ProcFS(root: Fixtures.path("amd/proc"))).get() == 263_921_340 * 1024)
    }

    @Test func bootIDIsReadAndValidated() throws {
        #expect(try KernelIdentityReader.bootID(procfs: ProcFS(root: Fixtures.path("amd/proc"))).get() == "7d2b9c41-3e5f-4a6b-8c7d-9e0f1a2b3c4d")
        let missing = KernelIdentityReader.bootID(procfs: ProcFS(root: Fixtures.path("intel-2s")))
        #expect(throws: FileReadError.self) { try missing.get() }
    }

    @Test(arguments: [
        ("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n", "/sys/fs/cgroup/unified"),
        ("30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup"),
        ("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n50 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw\n", "/mnt/my cgroups"),
    ])
    func cgroup2MountFromMountinfo(mountinfo: String, mountPoint: String) {
        #expect(CgroupV2.parseMountPoint(mountinfo: mountinfo[...]) == mountPoint)
    }

    @Test func noCgroup2Mount() {
        #expect(CgroupV2.parseMountPoint(mountinfo: "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n") == nil)
    }

    @Test func cpuStatUsage() {
        #expect(CgroupV2.parseUsage(cpuStat: "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n") == 123_456)
        #expect(CgroupV2.parseUsage(cpuStat: "user_usec 1\n") == nil)
    }
}
