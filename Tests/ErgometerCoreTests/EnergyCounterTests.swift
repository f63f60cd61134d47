import ErgometerCore
import Testing

struct EnergyCounterTests {
    static let intelRange: UInt64 = 262_143_328_850
    static let boot = "5a1c2d3e-0f4b-4c8e-9d7a-3b2f1e0c9a8d"

    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var previous: UInt64
        var current: UInt64
        var range: UInt64?
        var currentBoot: String = EnergyCounterTests.boot
        var ceiling: UInt64?
        var expected: EnergyCounterDelta
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "steady", previous: 1_000, current: 5_000, range: intelRange, expected: .advanced(microjoules: 4_000)),
        Case(label: "unchanged", previous: 7, current: 7, range: intelRange, expected: .advanced(microjoules: 0)),
        Case(
            label: "just below max", previous: intelRange - 1_000, current: intelRange - 1, range: intelRange,
            expected: .advanced(microjoules: 999)),
        Case(
            label: "exactly at max", previous: intelRange - 1_000, current: intelRange, range: intelRange,
            expected: .advanced(microjoules: 1_000)),
        Case(
            label: "after a wrap", previous: intelRange - 1_000, current: 500, range: intelRange,
            expected: .wrapped(microjoules: 1_500)),
        Case(label: "wrap from max to zero", previous: intelRange, current: 0, range: intelRange, expected: .wrapped(microjoules: 0)),
        Case(
            label: "AMD range wrap", previous: 65_532_610_000, current: 1_000_000, range: 65_532_610_987,
            expected: .wrapped(microjoules: 1_000_987)),
        Case(
            label: "reset after reboot", previous: 900_000, current: 100, range: intelRange,
            currentBoot: "0e6f3a55-8b1d-4f0e-a7c2-5d9e4b3c2a10", expected: .reset(.reboot)),
        Case(
            label: "reboot even when the counter grew", previous: 100, current: 900_000, range: intelRange,
            currentBoot: "0e6f3a55-8b1d-4f0e-a7c2-5d9e4b3c2a10", expected: .reset(.reboot)),
        Case(label: "backwards without a known range", previous: 5_000, current: 10, range: nil, expected: .reset(.backwards)),
        Case(
            label: "previous above the range cannot be a wrap", previous: intelRange + 5, current: 10, range: intelRange,
            expected: .reset(.backwards)),
        Case(
            label: "wrap implying more than the zone can draw", previous: 1_000_000, current: 10, range: intelRange,
            ceiling: 500_000_000, expected: .reset(.backwards)),
        Case(
            label: "wrap within the ceiling", previous: intelRange - 100, current: 100, range: intelRange,
            ceiling: 500_000_000, expected: .wrapped(microjoules: 200)),
    ]

    @Test(arguments: cases)
    func delta(_ testCase: Case) {
        let previous = EnergyCounterReading(microjoules: testCase.previous, maxRangeMicrojoules: testCase.range, bootID: Self.boot)
        let current = EnergyCounterReading(
            microjoules: testCase.current, maxRangeMicrojoules: testCase.range, bootID: testCase.currentBoot)
        #expect(current.delta(since: previous, ceilingMicrojoules: testCase.ceiling) == testCase.expected)
    }

    @Test func wrapConservesEnergyAcrossTheBoundary() {
        // Two intervals straddling a wrap add up to the energy of one interval spanning both.
        let range = Self.intelRange
        let start = EnergyCounterReading(microjoules: range - 3_000, maxRangeMicrojoules: range, bootID: Self.boot)
        let middle = EnergyCounterReading(microjoules: range - 1, maxRangeMicrojoules: range, bootID: Self.boot)
        let end = EnergyCounterReading(microjoules: 2_000, maxRangeMicrojoules: range, bootID: Self.boot)
        let split = (middle.delta(since: start).microjoules ?? 0) + (end.delta(since: middle).microjoules ?? 0)
        #expect(split == end.delta(since: start).microjoules)
    }

    @Test func resetHasNoEnergy() {
        #expect(EnergyCounterDelta.reset(.reboot).microjoules == nil)
        #expect(EnergyCounterDelta.wrapped(microjoules: 3).microjoules == 3)
    }
}
