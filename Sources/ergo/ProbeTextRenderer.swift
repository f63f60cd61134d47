import ErgometerCore

/// Renders a `ProbeReport` for a person. Every figure names its unit, and every power or energy
/// figure its source: `[rapl]` measured, `[model]` estimated.
struct ProbeTextRenderer {
    var sysfsRoot: String
    var procfsRoot: String

    func render(_ report: ProbeReport) -> String {
        var out = "Ergometer probe: sysfs \(sysfsRoot), procfs \(procfsRoot)"
        if let seconds = report.intervalSeconds { out += ", interval \(Format.fixed(seconds, 3)) s" }
        out += "\n\n"
        out += powerSection(report)
        out += raplSection(report)
        out += powerSensorSection(report)
        out += gpuSection(report)
        out += temperatureSection(report)
        out += cpuSection(report)
        if let memory = report.memory {
            out += "Memory: \(Format.fixed(Double(memory.totalBytes) / 1_073_741_824, 2)) GiB (\(memory.totalBytes) bytes)\n"
        }
        out += "Boot id: \(report.bootID ?? "unknown")\n\n"
        out += pciSection(report)
        out += errorSection(report)
        return out
    }

    private func powerSection(_ report: ProbeReport) -> String {
        let power = report.powerSource
        var out = "Power source: \(power.source.rawValue) (\(power.source == .rapl ? "measured" : "estimated"))\n"
        out += "  \(power.reason)\n"
        if let watts = power.hostPowerWatts {
            out += "  host power: \(Format.fixed(watts, 2)) W [\(power.source.rawValue)]"
            out += power.source == .rapl ? " (\(power.zones.joined(separator: " + ")))\n" : "\n"
        } else if report.intervalSeconds == nil {
            out += "  host power: needs an interval (--interval 1)\n"
        }
        if let model = power.model {
            let role = power.source == .model ? "model" : "fallback model"
            out += "  \(role): \(Format.fixed(model.idleWatts, 2)) W idle to \(Format.fixed(model.maxWatts, 2)) W busy; \(model.basis)\n"
        }
        return out + "\n"
    }

    private func raplSection(_ report: ProbeReport) -> String {
        guard !report.rapl.isEmpty else { return "RAPL zones: none\n\n" }
        var rows = [["ZONE", "KIND", "SOCKET", "ENERGY (J) [rapl]", "RANGE (J)", "POWER (W) [rapl]", "HOST", "PATH"]]
        for zone in report.rapl {
            rows.append([
                zone.name, zone.kind.rawValue, zone.socket.map(String.init) ?? "-",
                zone.energyJoules.map { Format.fixed($0, 6) } ?? "unreadable",
                zone.maxEnergyJoules.map { Format.fixed($0, 6) } ?? "unknown",
                zone.powerWatts.map { Format.fixed($0, 3) } ?? "-",
                zone.countedInHost ? "yes" : "no", zone.path,
            ])
        }
        return "RAPL zones:\n" + Format.table(rows) + "\n"
    }

    private func powerSensorSection(_ report: ProbeReport) -> String {
        guard !report.powerSensors.isEmpty else { return "hwmon power and energy sensors: none\n\n" }
        var rows = [["CHIP", "SENSOR", "LABEL", "CLASS", "PCI", "READING", "POWER (W)", "SOURCE", "HOST", "READER"]]
        var notes: [String] = []
        for sensor in report.powerSensors {
            let reading = sensor.watts.map { Format.fixed($0, 3) + " W" } ?? sensor.energyJoules.map { Format.fixed($0, 6) + " J" } ?? "-"
            rows.append([
                sensor.chip, sensor.sensor, sensor.label ?? "-", sensor.class.rawValue, sensor.pciSlot ?? "-", reading,
                sensor.powerWatts.map { Format.fixed($0, 3) } ?? "-", sensor.source.rawValue, sensor.countedInHost ? "yes" : "no",
                sensor.reader,
            ])
            if let note = sensor.note { notes.append("  \(sensor.chip) \(sensor.sensor): not counted, \(note)") }
        }
        return "hwmon power and energy sensors (energy counters in J, gauges in W):\n" + Format.table(rows) + notes.map { $0 + "\n" }.joined() + "\n"
    }

    /// NVIDIA GPUs, or the one line saying why none is read.
    private func gpuSection(_ report: ProbeReport) -> String {
        guard let status = report.nvml else { return "" }
        guard status.readable else { return (status.reason ?? "no NVIDIA GPU readable") + "\n\n" }
        var out = "NVIDIA GPUs (NVML \(status.library), driver \(status.driverVersion ?? "unknown")):\n"
        guard !report.gpus.isEmpty else { return out + "  none enumerated\n\n" }
        var rows = [["GPU", "UUID", "NAME", "PCI", "READING", "POWER (W)", "SOURCE", "UTIL", "PROCESSES", "MIG"]]
        var notes: [String] = []
        for gpu in report.gpus {
            let reading = gpu.lost ? "lost" : gpu.energyJoules.map { Format.fixed($0, 3) + " J" } ?? gpu.watts.map { Format.fixed($0, 3) + " W" } ?? "-"
            let processes = gpu.processes.map { process in "\(process.pid)" + (process.smPercent.map { " (SM \($0) %)" } ?? "") }
            rows.append([
                "\(gpu.index)", gpu.uuid, gpu.name, gpu.pciSlot ?? "-", reading, gpu.powerWatts.map { Format.fixed($0, 3) } ?? "-",
                gpu.source.rawValue, gpu.utilizationRatio.map { Format.fixed($0 * 100, 0) + " %" } ?? "-",
                processes.isEmpty ? "none" : processes.joined(separator: ", "), gpu.migMode.map { $0 ? "on" : "off" } ?? "-",
            ])
            if gpu.source == .nvmlPower { notes.append("  GPU \(gpu.index): no energy counter; power is NVML's reading, a 1-s average on most Ampere-and-later boards") }
            for note in gpu.notes { notes.append("  GPU \(gpu.index): \(note)") }
        }
        if !status.missingEntryPoints.isEmpty { notes.append("  the library lacks \(status.missingEntryPoints.joined(separator: ", "))") }
        out += "  (energy counters in J since the driver loaded, power in W)\n"
        return out + Format.table(rows) + notes.map { $0 + "\n" }.joined() + "\n"
    }

    private func temperatureSection(_ report: ProbeReport) -> String {
        guard !report.temperatures.isEmpty else { return "Temperatures: none\n\n" }
        var rows = [["CHIP", "SENSOR", "°C", "READER"]]
        for reading in report.temperatures {
            rows.append([reading.chip, reading.sensor, Format.fixed(reading.celsius, 3), reading.reader])
        }
        return "Temperatures:\n" + Format.table(rows) + "\n"
    }

    private func cpuSection(_ report: ProbeReport) -> String {
        guard let cpu = report.cpu else { return "CPU: unknown\n\n" }
        var out = "CPU: \(cpu.model ?? "unknown"), \(cpu.logicalCPUs.map(String.init) ?? "?") logical CPUs, "
        out += "\(cpu.sockets.map(String.init) ?? "?") socket(s)\(cpu.virtualized == true ? ", virtual machine" : "")\n"
        let window = cpu.busyRatioWindow == "interval" ? "over the interval" : "since boot"
        out += "  busy: \(cpu.busyRatio.map { Format.fixed($0 * 100, 1) + " %" } ?? "unknown") \(window)"
        let perCPU = cpu.perCPU.map { "cpu\($0.cpu) \($0.busyRatio.map { Format.fixed($0 * 100, 1) + " %" } ?? "?")" }
        if !perCPU.isEmpty { out += " (" + perCPU.joined(separator: ", ") + ")" }
        return out + "\n"
    }

    private func pciSection(_ report: ProbeReport) -> String {
        guard !report.pci.isEmpty else { return "PCI devices: none\n\n" }
        var rows = [["SLOT", "CLASS", "VENDOR", "DEVICE", "ACCELERATOR", "READ BY"]]
        for device in report.pci {
            // The accelerator's readings are in the sections above: name what reads it.
            var readers = report.gpus.filter { $0.pciSlot == device.slot }.map { "NVML GPU \($0.index)" }
            readers += report.powerSensors.filter { $0.pciSlot == device.slot && $0.class == .gpu }.map { "hwmon \($0.chip) \($0.sensor)" }
            rows.append([
                device.slot, "\(device.class) [\(device.classCode)]", "\(device.vendor) [\(device.vendorID)]",
                "\(device.device) [\(device.deviceID)]", device.accelerator ? "yes" : "no", readers.isEmpty ? "" : readers.joined(separator: ", "),
            ])
        }
        return "PCI devices:\n" + Format.table(rows) + "\n"
    }

    private func errorSection(_ report: ProbeReport) -> String {
        guard !report.errors.isEmpty else { return "" }
        return "Errors:\n" + report.errors.map { "  \($0.path): \($0.message)\n" }.joined()
    }
}

/// Number and table formatting without Foundation's locale machinery.
enum Format {
    static func fixed(_ value: Double, _ digits: Int) -> String { FixedDecimal.string(value, digits) }

    /// A value with an SI prefix and a trailing space for the unit: 1.23 G, 456 m, 7.8 n.
    static func si(_ value: Double) -> String {
        guard value.isFinite, value != 0 else { return Format.fixed(value, 0) + " " }
        let prefixes: [(Double, String)] = [(1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1, ""), (1e-3, "m"), (1e-6, "µ"), (1e-9, "n"), (1e-12, "p")]
        let (scale, prefix) = prefixes.first { abs(value) >= $0.0 } ?? (1e-15, "f")
        let scaled = value / scale
        return Format.fixed(scaled, abs(scaled) >= 100 ? 0 : abs(scaled) >= 10 ? 1 : 2) + " " + prefix
    }

    /// Rows as aligned columns, each line indented; `rightAligned` columns pad on the left;
    /// `shrinking` (one column, a name) is cut with "…" so a line fits `columns`.
    static func table(_ rows: [[String]], rightAligned: Set<Int> = [], indent: String = "  ", shrinking: Int? = nil, columns: Int = .max) -> String {
        var widths = rows.reduce(into: [Int](repeating: 0, count: rows.first?.count ?? 0)) { widths, row in
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        if let shrinking {
            let total = indent.count + widths.reduce(0, +) + 2 * (widths.count - 1)
            if total > columns { widths[shrinking] = max(8, widths[shrinking] - (total - columns)) }
        }
        return rows.map { row in
            var line = indent + row.enumerated().map { index, cell in
                let text = cell.count > widths[index] ? String(cell.prefix(widths[index] - 1)) + "…" : cell
                let pad = String(repeating: " ", count: widths[index] - text.count)
                return rightAligned.contains(index) ? pad + text : index == row.count - 1 ? text : text + pad
            }.joined(separator: "  ")
            while line.last == " " { line.removeLast() }  // an empty last cell leaves no trailing blanks
            return line + "\n"
        }.joined()
    }
}
