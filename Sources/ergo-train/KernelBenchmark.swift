import Foundation

/// `ergo-train --benchmark`: this CPU's peak single-core FLOP/s for the instructions this build
/// emits, and each kernel's FLOP/s on the workload's own shapes, as a fraction of that peak.
///
/// The peak is measured, not looked up: 16 independent SIMD8 multiply-add chains
/// (`acc = acc × m + a`, 2 FLOPs per lane) kept in registers, so nothing but the arithmetic
/// units limits it. The build targets baseline x86-64 (no -march), so this is the peak of
/// SSE-class code on this core, the same instructions the tiled kernel can use.
enum KernelBenchmark {
    static func run(threads: Int) {
        let peak = peakFlopsPerSecond()
        print("peak single-core: \(fixed(peak / 1e9, 2)) GFLOP/s (16 independent SIMD8 multiply-add chains in registers, best of 5)")
        print(row(["KERNEL", "SHAPE (M×K · K×N)", "THREADS", "GFLOP/s", "PER CORE / PEAK"]))
        for (m, n, k) in [(128, 256, 256), (256, 256, 128), (128, 256, 32)] {
            for kernel in Kernel.allCases {
                for threadCount in Set([1, threads]).sorted() {
                    let rate = kernelFlopsPerSecond(kernel, m: m, n: n, k: k, threads: threadCount)
                    print(row([kernel.rawValue, "\(m)×\(k) · \(k)×\(n)", "\(threadCount)", fixed(rate / 1e9, 2), fixed(rate / Double(threadCount) / peak * 100, 1) + "%"]))
                }
            }
        }
    }

    static func row(_ cells: [String]) -> String {
        zip(cells, [8, 20, 9, 10, 16]).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " ")
    }

    static func peakFlopsPerSecond() -> Double {
        let iterations = 20_000_000
        var best = 0.0
        for _ in 0..<5 {
            var accumulators = (0..<16).map { SIMD8<Float>(repeating: Float($0) * 1e-3) }
            let m = SIMD8<Float>(repeating: 0.999_999), a = SIMD8<Float>(repeating: 1e-7)
            let start = DispatchTime.now().uptimeNanoseconds
            accumulators.withUnsafeMutableBufferPointer { acc in
                var (a0, a1, a2, a3, a4, a5, a6, a7) = (acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7])
                var (b0, b1, b2, b3, b4, b5, b6, b7) = (acc[8], acc[9], acc[10], acc[11], acc[12], acc[13], acc[14], acc[15])
                for _ in 0..<(iterations / 16) {
                    a0 = a0 * m + a; a1 = a1 * m + a; a2 = a2 * m + a; a3 = a3 * m + a
                    a4 = a4 * m + a; a5 = a5 * m + a; a6 = a6 * m + a; a7 = a7 * m + a
                    b0 = b0 * m + a; b1 = b1 * m + a; b2 = b2 * m + a; b3 = b3 * m + a
                    b4 = b4 * m + a; b5 = b5 * m + a; b6 = b6 * m + a; b7 = b7 * m + a
                }
                (acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]) = (a0, a1, a2, a3, a4, a5, a6, a7)
                (acc[8], acc[9], acc[10], acc[11], acc[12], acc[13], acc[14], acc[15]) = (b0, b1, b2, b3, b4, b5, b6, b7)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if accumulators.reduce(0, { $0 + $1.sum() }) == .infinity { print("") }  // keeps the work
            best = max(best, Double(iterations) * 8 * 2 / seconds)
        }
        return best
    }

    static func kernelFlopsPerSecond(_ kernel: Kernel, m: Int, n: Int, k: Int, threads: Int) -> Double {
        var random = SeededGenerator(seed: 7)
        var a = Matrix(rows: m, columns: k)
        var b = Matrix(rows: k, columns: n)
        for index in a.values.indices { a.values[index] = random.normal() }
        for index in b.values.indices { b.values[index] = random.normal() }
        var c = Matrix(rows: m, columns: n)
        let flops = 2 * Double(m) * Double(n) * Double(k)
        let repetitions = max(Int(2e9 / flops / (kernel == .naive ? 10 : 1)), 3)
        var best = 0.0
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<repetitions { kernel.multiply(a, b, into: &c, threads: threads) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            best = max(best, flops * Double(repetitions) / seconds)
        }
        return best
    }
}
