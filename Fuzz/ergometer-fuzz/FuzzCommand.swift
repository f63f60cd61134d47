import ArgumentParser
import ErgometerProbes
import Foundation

/// `ergometer-fuzz`: feeds every parser a stranger can reach with seeded mutations of real
/// inputs, checks each answer against the parser's contract, and keeps any input that crashes
/// a parser or breaks its contract as a file, so it can become a regression test.
@main
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ergometer-fuzz",
        abstract: "Fuzz ergometer's parsers with seeded mutations; any crash or broken contract is kept as a file.")

    @Option(name: .customLong("target"), help: "Fuzz only these targets (repeatable); --list names them.")
    var targets: [String] = []

    @Option(help: "Inputs per target.")
    var iterations = 10_000

    @Option(help: "Stop each target after this many seconds, whatever the count.")
    var seconds: Double?

    @Option(help: "Seed of the generator; a run is reproduced by the same seed and counts.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Where crashing and contract-breaking inputs are written.", valueName: "DIR"))
    var output = "fuzz-findings"

    @Option(help: ArgumentHelp("Run the files of DIR/<target>/ (earlier findings) instead of fuzzing.", valueName: "DIR"))
    var replay: String?

    @Flag(help: "List the targets and exit.")
    var list = false

    func run() throws {
        if list {
            for target in FuzzTargets.all { print("\(target.name): \(target.summary)") }
            return
        }
        let chosen = targets.isEmpty ? FuzzTargets.all : try targets.map { name in
            guard let target = (FuzzTargets.all + [FuzzTargets.selfTestCrash]).first(where: { $0.name == name }) else {
                throw ValidationError("no target \(name); --list shows them")
            }
            return target
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        CrashRecorder.install()
        defer { unlink(FuzzTargets.scratchFile) }
        var broken = 0
        if let replay {
            for target in chosen { broken += try Self.replay(target, directory: replay + "/" + target.name, output: output) }
        } else {
            print("target            inputs   accepted  rejected  violations  slowest    seconds")
            for target in chosen {
                let summary = fuzz(target)
                broken += summary.violations
                print(summary.line)
                fflush(nil)  // each target's line is out before a later one can crash
            }
        }
        guard broken == 0 else {
            print("\(broken) inputs broke a parser's contract; they are in \(output)/")
            throw ExitCode(1)
        }
    }

    /// What one target's run found.
    struct Summary {
        var name: String
        var inputs = 0
        var accepted = 0
        var rejected = 0
        var violations = 0
        var slowestNanoseconds: UInt64 = 0
        var seconds = 0.0

        var line: String {
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(width - text.count, 1)) }
            return pad(name, 18) + pad("\(inputs)", 9) + pad("\(accepted)", 10) + pad("\(rejected)", 10) + pad("\(violations)", 12)
                + pad(String(format: "%.2f ms", Double(slowestNanoseconds) / 1e6), 11) + String(format: "%.1f", seconds)
        }
    }

    func fuzz(_ target: FuzzTarget) -> Summary {
        var summary = Summary(name: target.name)
        var mutator = Mutator(seed: seed ^ UInt64(truncatingIfNeeded: target.name.hashValueStable), dictionary: target.dictionary)
        var corpus = target.seeds.filter { !$0.isEmpty }
        if corpus.isEmpty { corpus = [[]] }
        CrashRecorder.setCrashFile("\(output)/crash-\(target.name)-seed\(seed).bin")
        let started = MonotonicClock.nanoseconds()
        let deadline = seconds.map { started + UInt64($0 * 1e9) }
        while summary.inputs < iterations, deadline.map({ MonotonicClock.nanoseconds() < $0 }) ?? true {
            // Every seed as it is first, then mutations of the corpus.
            let input = summary.inputs < target.seeds.count
                ? target.seeds[summary.inputs] : mutator.mutate(corpus[mutator.below(corpus.count)], others: corpus)
            CrashRecorder.hold(input)
            let before = MonotonicClock.nanoseconds()
            let outcome = target.run(input)
            summary.slowestNanoseconds = max(summary.slowestNanoseconds, MonotonicClock.nanoseconds() - before)
            summary.inputs += 1
            switch outcome {
            case .rejected: summary.rejected += 1
            case .accepted:
                summary.accepted += 1
                if input.count <= 8 * 1024 {  // keeps later inputs near real sizes; huge ones come from repeats
                    if corpus.count < 256 { corpus.append(input) } else { corpus[mutator.below(corpus.count)] = input }
                }
            case .violation(let why):
                summary.violations += 1
                let file = "\(output)/violation-\(target.name)-seed\(seed)-\(summary.inputs).bin"
                _ = FileManager.default.createFile(atPath: file, contents: Data(input))
                print("\(target.name): \(why.prefix(300)) (input in \(file))")
            }
        }
        summary.seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
        return summary
    }

    /// Runs each kept input of a target once; returns how many still break its contract.
    static func replay(_ target: FuzzTarget, directory: String, output: String) throws -> Int {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var broken = 0
        for file in files.sorted() {
            let input = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
            CrashRecorder.setCrashFile("\(output)/crash-\(target.name)-replay-\(file)")
            CrashRecorder.hold(input)
            if case .violation(let why) = target.run(input) {
                broken += 1
                print("\(target.name)/\(file): \(why.prefix(300))")
            }
        }
        print("\(target.name): \(files.count) kept inputs replayed, \(broken) broken")
        return broken
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: the same on every run (Hashable's value is seeded per process).
    var hashValueStable: UInt64 {
        utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}
