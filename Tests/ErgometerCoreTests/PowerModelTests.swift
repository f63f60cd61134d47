import ErgometerCore
import Testing

struct PowerModelTests {
    @Test(arguments: [(0.0, 20.0), (0.5, 60.0), (1.0, 100.0), (-0.2, 20.0), (1.7, 100.0)])
    func interpolatesBetweenIdleAndMax(utilization: Double, watts: Double) {
        let model = PowerModel(idleWatts: 20, maxWatts: 100, basis: "test")
        #expect(model.watts(utilization: utilization) == watts)
    }

    @Test func knownModelOnBareMetalUsesTDPPerSocket() {
        let cpu = CPUInfo(model: "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", logicalCPUs: 80, sockets: 2, virtualized: false)
        let model = PowerModel.forMachine(cpu: cpu)
        #expect(model.maxWatts == 300)
        #expect(model.idleWatts == 300 * PowerModel.defaultIdleFraction)
        #expect(model.basis.contains("Xeon(R) Gold 6248"))
    }

    @Test func knownModelInAVMGetsItsShareOfThreads() {
        let cpu = CPUInfo(model: "AMD EPYC 7543 32-Core Processor", logicalCPUs: 8, sockets: 1, virtualized: true)
        let model = PowerModel.forMachine(cpu: cpu)
        #expect(model.maxWatts == 225.0 * 8 / 64)
        #expect(model.basis.contains("VM share"))
    }

    @Test func unknownModelUsesPerCPUAverages() {
        let cpu = CPUInfo(model: "AMD EPYC", logicalCPUs: 2, sockets: 1, virtualized: true)
        let model = PowerModel.forMachine(cpu: cpu)
        #expect(model.idleWatts == 0.74 * 2)
        #expect(model.maxWatts == 3.5 * 2)
        #expect(model.basis.contains("--tdp-watts"))
    }

    @Test func configuredFiguresWin() {
        let cpu = CPUInfo(model: "AMD EPYC", logicalCPUs: 2, sockets: 1, virtualized: true)
        let model = PowerModel.forMachine(cpu: cpu, tdpWatts: 120, idleWatts: 30)
        #expect(model.maxWatts == 120)
        #expect(model.idleWatts == 30)
        #expect(model.basis.hasPrefix("configured TDP 120 W"))
    }
}

struct AcceleratorClassifierTests {
    @Test(arguments: [
        (UInt32(0x030200), UInt16(0x10de), true),  // NVIDIA H100: 3D controller
        (0x030000, 0x10de, true),  // GeForce: VGA
        (0x038000, 0x1002, true),  // AMD Instinct: display controller
        (0x120000, 0x1da3, true),  // Habana Gaudi: processing accelerator
        (0x030000, 0x1a03, false),  // ASPEED BMC VGA
        (0x030000, 0x1234, false),  // QEMU VGA
        (0x010802, 0xc0a9, false),  // NVMe
        (0x020000, 0x8086, false),  // Ethernet
    ])
    func flagsComputeDevices(classCode: UInt32, vendor: UInt16, accelerator: Bool) {
        #expect(AcceleratorClassifier.isAccelerator(classCode: classCode, vendorID: vendor) == accelerator)
    }
}
