import CMallocCounter
import ErgometerProbes

/// Times an operation call by call and counts the allocations it makes (the malloc family is
/// interposed in this executable), so each row says how long and how much memory traffic.
struct Measurement {
    var name: String
    var medianMicroseconds: Double
    var p99Microseconds: Double
    var allocationsPerCall: Double
    var bytesPerCall: Double
}

enum Harness {
    static func measure(_ name: String, iterations: Int, setup: () -> Void = {}, _ body: () -> Void) -> Measurement {
        for _ in 0..<min(iterations, 20) {
            setup()
            body()
        }
        var times = [Double](repeating: 0, count: iterations)
        var allocations: UInt64 = 0
        var bytes: UInt64 = 0
        for index in 0..<iterations {
            setup()
            let allocationsBefore = ergometer_allocations()
            let bytesBefore = ergometer_allocated_bytes()
            let start = MonotonicClock.nanoseconds()
            body()
            let end = MonotonicClock.nanoseconds()
            allocations += ergometer_allocations() - allocationsBefore
            bytes += ergometer_allocated_bytes() - bytesBefore
            times[index] = Double(end - start) / 1000
        }
        return summary(name, times: times, allocations: allocations, bytes: bytes)
    }

    static func measure(_ name: String, iterations: Int, setup: () async -> Void = {}, _ body: () async -> Void) async -> Measurement {
        for _ in 0..<min(iterations, 20) {
            await setup()
            await body()
        }
        var times = [Double](repeating: 0, count: iterations)
        var allocations: UInt64 = 0
        var bytes: UInt64 = 0
        for index in 0..<iterations {
            await setup()
            let allocationsBefore = ergometer_allocations()
            let bytesBefore = ergometer_allocated_bytes()
            let start = MonotonicClock.nanoseconds()
            await body()
            let end = MonotonicClock.nanoseconds()
            allocations += ergometer_allocations() - allocationsBefore
            bytes += ergometer_allocated_bytes() - bytesBefore
            times[index] = Double(end - start) / 1000
        }
        return summary(name, times: times, allocations: allocations, bytes: bytes)
    }

    static func summary(_ name: String, times: [Double], allocations: UInt64, bytes: UInt64) -> Measurement {
        let sorted = times.sorted()
        let count = Double(sorted.count)
        return Measurement(
            name: name, medianMicroseconds: sorted[sorted.count / 2], p99Microseconds: sorted[min(sorted.count - 1, sorted.count * 99 / 100)],
            allocationsPerCall: Double(allocations) / count, bytesPerCall: Double(bytes) / count)
    }
}
