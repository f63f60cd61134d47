/// One entry of `class/hwmon`, with what identifies it across boots.
///
/// `hwmonN` numbers change from boot to boot; a chip is its `name` plus the device it hangs off,
/// which is what lm-sensors encodes in a chip name such as `coretemp-isa-0000`.
struct HwmonChip: Sendable, Equatable {
    /// `hwmon3`
    var hwmonName: String
    /// The directory holding `name` and the sensor files (the hwmon directory, or its device
    /// directory for old drivers that keep their attributes there).
    var attributeDirectory: String
    /// Other directories whose sensor files belong to this chip (node_exporter also reads `device/`).
    var extraDirectories: [String]
    /// The `name` file; nil when there is none (lm-sensors then ignores the chip).
    var name: String?
    /// Last component of the `device` link's target (`coretemp.0`, `0000:01:00.0`); nil for
    /// virtual chips without a `device` link.
    var deviceName: String?
    /// Last component of `device/subsystem`'s target (`platform`, `pci`, `i2c`), when present.
    var subsystem: String?
    /// The first line of the I2C adapter's `name`, for chips on an i2c bus (legacy ISA adapters).
    var i2cAdapterName: String?
    /// The resolved `device` directory (its `class` file tells a GPU); nil for virtual chips.
    var deviceDirectory: String? = nil

    /// The PCI function the chip belongs to (`0000:03:00.0`), for chips on the PCI bus.
    var pciSlot: String? {
        guard subsystem == "pci", let deviceName, ScanLite.pciAddress(deviceName) != nil else { return nil }
        return deviceName
    }

    /// The name lm-sensors gives this chip (`sensors_snprintf_chip_name`), or nil when libsensors
    /// would skip it: no `name` file, or a bus libsensors does not know (`ieee80211`, `nvme`...).
    var libsensorsName: String? {
        guard let name else { return nil }
        guard let deviceName else { return "\(name)-virtual-0" }
        let subsystem = self.subsystem
        if subsystem == nil || subsystem == "i2c", let (bus, address) = ScanLite.decimalDashHex(deviceName) {
            if bus == 9191 || (i2cAdapterName?.hasPrefix("ISA ") ?? false) {
                return "\(name)-isa-\(ScanLite.hex(address, width: 4))"
            }
            return "\(name)-i2c-\(bus)-\(ScanLite.hex(address, width: 2))"
        }
        if subsystem == nil || subsystem == "spi", deviceName.hasPrefix("spi"),
            let (bus, chipSelect) = ScanLite.decimalDotDecimal(deviceName.dropFirst(3))
        {
            return "\(name)-spi-\(bus)-\(ScanLite.hex(chipSelect, width: 1))"
        }
        if subsystem == nil || subsystem == "pci", let parts = ScanLite.pciAddress(deviceName) {
            let address = (parts.0 << 16) + (parts.1 << 8) + (parts.2 << 3) + parts.3
            return "\(name)-pci-\(ScanLite.hex(address, width: 4))"
        }
        if subsystem == nil || subsystem == "platform" || subsystem == "of_platform" {
            return "\(name)-isa-\(ScanLite.hex(ScanLite.platformInstance(deviceName) ?? 0, width: 4))"
        }
        if subsystem == "acpi" { return "\(name)-acpi-0" }
        if subsystem == "hid", let parts = ScanLite.pciAddress(deviceName) {
            return "\(name)-hid-\(parts.0)-\(ScanLite.hex(parts.3, width: 1))"
        }
        return nil
    }

    /// The chip as Ergometer reports it: the lm-sensors name where lm-sensors can name it,
    /// else `<name>-<subsystem>-<device>` for buses it does not know, else the hwmon directory.
    var displayName: String {
        if let libsensorsName { return libsensorsName }
        if let name, let deviceName { return "\(name)-\(subsystem ?? "device")-\(deviceName)" }
        return hwmonName
    }
}

/// The few `sscanf` patterns lm-sensors uses to decode device names, as plain Swift.
enum ScanLite {
    /// `%hd-%x`: `0-002d` → (0, 0x2d).
    static func decimalDashHex(_ text: String) -> (Int, Int)? {
        guard let dash = text.firstIndex(of: "-"), let bus = Int(text[..<dash]), bus >= -32768, bus <= 32767 else {
            return nil
        }
        guard let address = leadingHex(text[text.index(after: dash)...]) else { return nil }
        return (bus, address)
    }

    /// `%hd.%d` after a prefix: `0.1` → (0, 1).
    static func decimalDotDecimal(_ text: Substring) -> (Int, Int)? {
        guard let dot = text.firstIndex(of: "."), let bus = Int(text[..<dot]) else { return nil }
        let rest = text[text.index(after: dot)...].prefix { $0.isNumber || $0 == "-" }
        guard let second = Int(rest) else { return nil }
        return (bus, second)
    }

    /// `%x:%x:%x.%x`: `0000:01:00.0` → (0, 1, 0, 0).
    static func pciAddress(_ text: String) -> (Int, Int, Int, Int)? {
        let colonParts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard colonParts.count == 3, let domain = Int(colonParts[0], radix: 16),
            let bus = Int(colonParts[1], radix: 16)
        else { return nil }
        let slotParts = colonParts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard slotParts.count == 2, let slot = Int(slotParts[0], radix: 16), let function = leadingHex(slotParts[1])
        else { return nil }
        return (domain, bus, slot, function)
    }

    /// `%*[a-z0-9_].%d`: `nct6775.656` → 656; nil when the name has another shape.
    static func platformInstance(_ text: String) -> Int? {
        let stem = text.prefix { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_" }
        guard !stem.isEmpty, text.dropFirst(stem.count).first == "." else { return nil }
        let digits = text.dropFirst(stem.count + 1).prefix { $0.isNumber || $0 == "-" }
        return Int(digits)
    }

    static func leadingHex(_ text: Substring) -> Int? {
        var rest = text
        if rest.hasPrefix("0x") || rest.hasPrefix("0X") { rest = rest.dropFirst(2) }
        return Int(rest.prefix { $0.isHexDigit }, radix: 16)
    }

    static func hex(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
