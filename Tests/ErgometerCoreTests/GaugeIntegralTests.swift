import ErgometerCore
import Testing

struct GaugeIntegralTests {
    @Test func theTrapezoidOfTwoReadings() {
        var integral = GaugeIntegral()
        #expect(integral.add(microwatts: 40_000_000, afterNanoseconds: 0) == 0, "the first reading only starts")
        // (40 W + 60 W) / 2 × 0.5 s = 25 J
        #expect(integral.add(microwatts: 60_000_000, afterNanoseconds: 500_000_000) == 25_000_000)
    }

    @Test func remaindersAreCarriedSoManyShortTicksLoseNothing() {
        var integral = GaugeIntegral()
        _ = integral.add(microwatts: 1, afterNanoseconds: 0)
        var total: UInt64 = 0
        // 1 µW for 3 ms is 0.003 µJ a tick: 1,000,000 ticks are 3,000 µJ (3,000 s).
        for _ in 0..<1_000_000 { total += integral.add(microwatts: 1, afterNanoseconds: 3_000_000) }
        #expect(total == 3_000)
    }

    @Test func aResetStartsAgain() {
        var integral = GaugeIntegral()
        _ = integral.add(microwatts: 10_000_000, afterNanoseconds: 0)
        integral.reset()
        #expect(integral.add(microwatts: 10_000_000, afterNanoseconds: 1_000_000_000) == 0)
        #expect(integral.add(microwatts: 10_000_000, afterNanoseconds: 1_000_000_000) == 10_000_000)
    }

    @Test func hugeProductsDoNotOverflow() {
        var integral = GaugeIntegral()
        _ = integral.add(microwatts: 4_000_000_000, afterNanoseconds: 0)  // 4 kW
        // 4 kW for a day: 345.6 MJ, 3.456e14 µJ; the µW·ns product passes 2^64.
        #expect(integral.add(microwatts: 4_000_000_000, afterNanoseconds: 86_400_000_000_000) == 345_600_000_000_000)
    }
}
