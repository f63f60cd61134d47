import Dispatch

/// The matrix-multiply kernels the workload can run: a plain triple loop, and a register-tiled
/// SIMD kernel. Same arithmetic, same FLOPs; the difference is what the hardware does with it,
/// which is exactly the "better hardware" factor `ergo compare` measures on one machine.
enum Kernel: String, CaseIterable {
    case naive, tiled

    /// C = A · B (A is M×K, B is K×N), split by rows of C over `threads`.
    func multiply(_ a: Matrix, _ b: Matrix, into c: inout Matrix, threads: Int) {
        precondition(a.columns == b.rows && c.rows == a.rows && c.columns == b.columns, "shapes")
        let (m, n, k) = (a.rows, b.columns, a.columns)
        a.values.withUnsafeBufferPointer { aBuffer in
            b.values.withUnsafeBufferPointer { bBuffer in
                c.values.withUnsafeMutableBufferPointer { cBuffer in
                    // Each part writes its own rows of C; A and B are only read.
                    nonisolated(unsafe) let pa = aBuffer.baseAddress!, pb = bBuffer.baseAddress!, pc = cBuffer.baseAddress!
                    let parts = min(threads, max(m / 4, 1))
                    let kernel = self
                    let run: @Sendable (Int) -> Void = { part in
                        let rowsPerPart = (m / parts + 3) / 4 * 4
                        let start = part * rowsPerPart
                        let end = part == parts - 1 ? m : min(start + rowsPerPart, m)
                        guard start < end else { return }
                        switch kernel {
                        case .naive: Self.naive(pa, pb, pc, rows: start..<end, n: n, k: k)
                        case .tiled: Self.tiled(pa, pb, pc, rows: start..<end, n: n, k: k)
                        }
                    }
                    if parts == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: run) }
                }
            }
        }
    }

    /// The textbook loop: a dot product per element, walking B down a column (stride N).
    static func naive(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int, k: Int) {
        for i in rows {
            for j in 0..<n {
                var sum: Float = 0
                for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
                c[i * n + j] = sum
            }
        }
    }

    /// 4×8 register tiles: for each k, one row of 8 from B (a SIMD vector) times four broadcast
    /// values from A, accumulated in four vector registers; K in blocks that stay in cache.
    static func tiled(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, rows: Range<Int>, n: Int, k: Int) {
        let blockK = 256
        for i in rows { for j in 0..<n { c[i * n + j] = 0 } }
        var kStart = 0
        while kStart < k {
            let kEnd = min(kStart + blockK, k)
            var i = rows.lowerBound
            while i + 4 <= rows.upperBound {
                var j = 0
                while j + 8 <= n {
                    var c0 = load(c + i * n + j), c1 = load(c + (i + 1) * n + j)
                    var c2 = load(c + (i + 2) * n + j), c3 = load(c + (i + 3) * n + j)
                    for p in kStart..<kEnd {
                        let row = load(b + p * n + j)
                        c0 += a[i * k + p] * row
                        c1 += a[(i + 1) * k + p] * row
                        c2 += a[(i + 2) * k + p] * row
                        c3 += a[(i + 3) * k + p] * row
                    }
                    store(c0, c + i * n + j)
                    store(c1, c + (i + 1) * n + j)
                    store(c2, c + (i + 2) * n + j)
                    store(c3, c + (i + 3) * n + j)
                    j += 8
                }
                for row in i..<(i + 4) { edge(a, b, c, row: row, columns: j..<n, n: n, k: k, kRange: kStart..<kEnd) }
                i += 4
            }
            for row in i..<rows.upperBound { edge(a, b, c, row: row, columns: 0..<n, n: n, k: k, kRange: kStart..<kEnd) }
            kStart = kEnd
        }
    }

    /// Rows and columns that do not fill a tile: row-wise, vectorizable by the compiler.
    static func edge(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>, row: Int, columns: Range<Int>, n: Int, k: Int,
        kRange: Range<Int>
    ) {
        guard !columns.isEmpty else { return }
        for p in kRange {
            let value = a[row * k + p]
            for j in columns { c[row * n + j] += value * b[p * n + j] }
        }
    }

    @inline(__always) static func load(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func load(_ pointer: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
    }
}
