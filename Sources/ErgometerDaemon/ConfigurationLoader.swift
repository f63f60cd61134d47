public import ErgometerCore
import Foundation
import TOMLKit

/// Reads the TOML configuration: defaults → decode → validate, reporting every bad key at once
/// with its line.
public enum ConfigurationLoader {
    /// Every key the file may set, `section.key`, in documentation order.
    public static var keyNames: [String] { ConfigurationKey.all.map(\.name) }

    public static func load(file: String) throws(ConfigurationError) -> DaemonConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: file, problems: ["cannot read the file: \(error.localizedDescription)"])
        }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> DaemonConfiguration {
        let shape = ConfigurationShape.problems(text)
        guard shape.isEmpty else { throw ConfigurationError(file: file, problems: shape) }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, problems: ["line \(error.source.begin.line): \(error.description)"])
        } catch {
            throw ConfigurationError(file: file, problems: ["\(error)"])
        }
        var configuration = DaemonConfiguration()
        var problems: [String] = []
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)

        func where_(_ section: String, _ key: String) -> String {
            "line \(line(of: key, in: section, lines: lines).map(String.init) ?? "?"): \(section).\(key)"
        }

        for section in table.keys {
            guard let sectionTable = table[section]?.table else {
                problems.append("line \(line(of: section, in: nil, lines: lines).map(String.init) ?? "?"): \(section) is not a [section]; keys live under [daemon], [power], [gpu], [carbon], [jobs], [discovery], [store], [metrics], [control]")
                continue
            }
            for key in sectionTable.keys {
                let path = "\(section).\(key)"
                guard let declared = ConfigurationKey.byName[path] else {
                    let known = ConfigurationKey.all.map(\.name).filter { $0.hasPrefix(section + ".") }
                    problems.append("\(where_(section, key)): unknown key" + (known.isEmpty ? ", and [\(section)] is not a section" : "; [\(section)] has \(known.map { $0.split(separator: ".")[1] }.joined(separator: ", "))"))
                    continue
                }
                let value = sectionTable[key]
                switch declared.kind {
                case .number:
                    guard let number = value?.double ?? value?.int.map(Double.init) else {
                        problems.append("\(where_(section, key)): must be a number, found \(value.map { "\($0.type)" } ?? "nothing")")
                        continue
                    }
                    if let problem = declared.assign(number: number, to: &configuration) {
                        problems.append("\(where_(section, key)): \(problem)")
                    }
                case .boolean:
                    guard let flag = value?.bool else {
                        problems.append("\(where_(section, key)): must be true or false, found \(value.map { "\($0.type)" } ?? "nothing")")
                        continue
                    }
                    declared.assign(flag: flag, to: &configuration)
                case .strings:
                    guard let array = value?.array, let strings = Optional(array.compactMap { $0.string }), strings.count == array.count else {
                        problems.append("\(where_(section, key)): must be a list of strings in quotes, as in [\"train-*.service\"]")
                        continue
                    }
                    declared.assign(strings: strings, to: &configuration)
                case .string:
                    guard let string = value?.string else {
                        problems.append("\(where_(section, key)): must be a string in quotes, found \(value.map { "\($0.type)" } ?? "nothing")")
                        continue
                    }
                    if let problem = declared.assign(string: string, to: &configuration) {
                        problems.append("\(where_(section, key)): \(problem)")
                    }
                }
            }
        }
        problems += configuration.validationProblems()
        guard problems.isEmpty else { throw ConfigurationError(file: file, problems: problems) }
        return configuration
    }

    /// The 1-based line where `key` is set inside `[section]` (or where `[key]` opens).
    static func line(of key: String, in section: String?, lines: [Substring]) -> Int? {
        var current: String?
        for (index, raw) in lines.enumerated() {
            let line = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \t\r"))
            if line.hasPrefix("[") {
                current = String(line.dropFirst().prefix { $0 != "]" }).trimmingCharacters(in: .whitespaces)
                if section == nil && current == key { return index + 1 }
                continue
            }
            guard current == section || section == nil else { continue }
            let name = line.prefix { $0 != "=" }.trimmingCharacters(in: CharacterSet(charactersIn: " \t\""))
            if name == key && line.contains("=") { return index + 1 }
        }
        return nil
    }

    /// The carbon and price schedules the configuration names (CSV files read here).
    public static func carbonAccounting(_ configuration: DaemonConfiguration) throws(ConfigurationError) -> CarbonAccounting {
        var intensity = RateSchedule.constant(configuration.intensityGramsPerKWh)
        var price = configuration.pricePerKWh.map(RateSchedule.constant)
        var problems: [String] = []
        for (key, path) in [("carbon.intensity_csv", configuration.intensityCSV), ("carbon.price_csv", configuration.priceCSV)] {
            guard let path else { continue }
            do {
                let schedule = try RateScheduleCSV.parse(try String(contentsOfFile: path, encoding: .utf8))
                if key == "carbon.intensity_csv" { intensity = schedule } else { price = schedule }
            } catch let error as RateScheduleCSV.ParseError {
                problems.append("\(key) \(path): \(error)")
            } catch {
                problems.append("\(key) \(path): cannot read the file: \(error.localizedDescription)")
            }
        }
        guard problems.isEmpty else { throw ConfigurationError(file: "carbon schedules", problems: problems) }
        return CarbonAccounting(intensity: intensity, pue: configuration.pue, price: price, currency: configuration.currency)
    }
}
