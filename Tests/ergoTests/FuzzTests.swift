import ErgometerTestSupport
import Foundation
import Testing

/// The fuzzer, bounded for CI (`make fuzz` runs it longer): every target, a fixed seed and
/// count, no crash and no broken contract; and every input a fuzz run ever found stays fixed.
struct FuzzTests {
    static let fuzz = BuiltProducts.executable("ergometer-fuzz")

    @Test func aShortSeededRunOfEveryTargetFindsNothing() throws {
        let output = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try ProcessResult.run(Self.fuzz, ["--iterations", "1500", "--seed", "20261128", "--output", output])
        #expect(run.status == 0, "\(run.standardOutput)\n\(run.standardError)")
        let listed = try ProcessResult.run(Self.fuzz, ["--list"]).standardOutput.split(separator: "\n").count
        let finished = run.standardOutput.split(separator: "\n").filter { $0.contains("1500 ") }.count
        #expect(listed >= 13 && finished == listed, "every target ran its 1500 inputs:\n\(run.standardOutput)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).isEmpty, "no input kept")
    }

    @Test func everyInputAFuzzRunFoundStaysFixed() throws {
        let kept = Fixtures.path("fuzz-regressions")
        let run = try ProcessResult.run(Self.fuzz, ["--replay", kept, "--output", try Fixtures.temporaryDirectory()])
        #expect(run.status == 0, "\(run.standardOutput)\n\(run.standardError)")
        let replayed = run.standardOutput.split(separator: "\n").filter { $0.contains("kept inputs replayed, 0 broken") && !$0.contains(": 0 kept") }
        #expect(replayed.count >= 2, "the config and /proc/stat findings are replayed:\n\(run.standardOutput)")
    }

    @Test func aParserThatCrashesLeavesItsInputBehind() throws {
        // The crash path itself: a target that traps keeps the input that did it.
        let output = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try ProcessResult.run(Self.fuzz, ["--target", "self-test-crash", "--iterations", "1", "--output", output])
        #expect(run.status != 0)
        #expect(run.standardError.contains("a parser crashed; the input is in"), "\(run.standardError)")
        let files = try FileManager.default.contentsOfDirectory(atPath: output)
        #expect(files.contains { $0.hasPrefix("crash-self-test-crash") })
    }
}
