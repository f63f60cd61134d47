/// Where an energy figure comes from (DESIGN.md, "Reading the machine"). Every figure Ergometer
/// prints carries one.
public enum EnergySource: String, Codable, Sendable, CaseIterable {
    /// A RAPL `energy_uj` counter (powercap).
    case rapl
    /// An hwmon `energyN_input` counter, µJ.
    case hwmonEnergy = "hwmon-energy"
    /// An hwmon `powerN_average` / `powerN_input` gauge, µW, integrated by the trapezoid.
    case hwmonPower = "hwmon-power"
    /// NVML's total-energy counter, mJ since the driver loaded.
    case nvmlEnergy = "nvml-energy"
    /// NVML's power reading, mW, integrated per tick.
    case nvmlPower = "nvml-power"
    /// The utilization model: an estimate, not a measurement.
    case model

    /// The source's position in `allCases`, for arrays indexed by source.
    public var ordinal: Int {
        switch self {
        case .rapl: 0
        case .hwmonEnergy: 1
        case .hwmonPower: 2
        case .nvmlEnergy: 3
        case .nvmlPower: 4
        case .model: 5
        }
    }

    /// True for every source but the model.
    public var isMeasured: Bool { self != .model }
}

/// The sources of power figures before there were other meters than RAPL.
public typealias PowerSourceKind = EnergySource

/// What part of the box an energy domain covers.
public enum DomainKind: String, Codable, Sendable, CaseIterable {
    /// CPU packages (cores and uncore included).
    case cpuPackage = "cpu-package"
    /// Memory attached to the packages (RAPL DRAM).
    case dram
    /// One GPU or accelerator.
    case gpu
    /// The box's own meter (ACPI power meter, PSU): everything.
    case platform
    /// What the platform meter sees beyond the component domains: fans, disks, NICs, PSU loss
    /// (platform − Σ components, never negative).
    case rest
    /// A meter of something else (a board rail); shown, not part of the box's energy.
    case other
}

/// One energy domain a meter owns: a name unique on the box (`cpu-package`, `dram`,
/// `gpu-0000:03:00.0`, `platform`, `rest`), its kind, and the device it measures.
public struct EnergyDomain: Hashable, Sendable, Codable {
    public var name: String
    public var kind: DomainKind
    /// The PCI slot of a GPU domain; nil otherwise.
    public var pciSlot: String?
    /// What reads it, for a person: `amdgpu-pci-0300 power1`, `RAPL package-0 + package-1`.
    public var detail: String
    /// A GPU's UUID and product name, where its driver says (NVML); nil otherwise.
    public var uuid: String?
    public var deviceName: String?

    public init(name: String, kind: DomainKind, pciSlot: String? = nil, detail: String = "", uuid: String? = nil, deviceName: String? = nil) {
        self.name = name
        self.kind = kind
        self.pciSlot = pciSlot
        self.detail = detail
        self.uuid = uuid
        self.deviceName = deviceName
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, pciSlot = "pci_slot", detail, uuid, deviceName = "device_name"
    }
}

/// A domain's energy over one tick: integer microjoules, with the source that measured them.
public struct DomainEnergy: Equatable, Sendable {
    public var microjoules: UInt64
    public var source: EnergySource

    public init(microjoules: UInt64, source: EnergySource) {
        self.microjoules = microjoules
        self.source = source
    }
}
