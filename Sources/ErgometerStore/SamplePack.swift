public import Foundation

/// One job's full-resolution ticks of one checkpoint, packed into one `job_samples` row (store
/// v8): the row holds their span (`start` of the first, `end` of the last), the sums of their
/// energy and CPU time and their hottest reading, which is what retention, `ergo store` and the
/// age index see, and `ticks`, a blob with every tick as it was sampled. A busy node writes one
/// row per job per checkpoint instead of one per tick: five times fewer rows and index entries
/// at the default 5 s checkpoint, and half the bytes a tick.
///
/// The blob: a format byte (1), then per tick a flags byte (bit 0: the tick's start follows,
/// else it is the previous tick's end, or the row's start for the first; bit 1: its hottest
/// reading follows), its end (IEEE 754 binary64, little-endian), its start if flagged, its
/// energy (µJ) and CPU time (µs) as LEB128 varints, its hottest reading if flagged (binary64),
/// and its `SampleDomainsColumn` text, length-prefixed (varint). Times and values come back
/// bit for bit.
public enum SamplePack {
    /// Ticks one row holds at most: a store that could not be written for a while saves a long
    /// run of a job's ticks at once, and retention reads rows in batches.
    public static let maxTicks = 60
    static let format: UInt8 = 1

    /// The row and its blob for `ticks`: one job's full-resolution samples, oldest first, at
    /// most `maxTicks`.
    public static func pack(_ ticks: ArraySlice<JobSample>) -> (row: JobSample, blob: Data) {
        precondition(!ticks.isEmpty, "a pack holds at least one tick")
        var bytes: [UInt8] = [format]
        bytes.reserveCapacity(1 + ticks.count * 40)
        var previousEnd = ticks.first!.start
        var energy: Int64 = 0
        var cpu: Int64 = 0
        var hottest: Double?
        for tick in ticks {
            let contiguous = tick.start.bitPattern == previousEnd.bitPattern
            bytes.append((contiguous ? 0 : 1) | (tick.maxCelsius == nil ? 0 : 2))
            appendDouble(tick.end, to: &bytes)
            if !contiguous { appendDouble(tick.start, to: &bytes) }
            appendVarint(UInt64(bitPattern: tick.energyMicrojoules), to: &bytes)
            appendVarint(UInt64(bitPattern: tick.cpuMicroseconds), to: &bytes)
            if let celsius = tick.maxCelsius {
                appendDouble(celsius, to: &bytes)
                hottest = max(hottest ?? celsius, celsius)
            }
            appendVarint(UInt64(tick.domains.utf8.count), to: &bytes)
            bytes.append(contentsOf: tick.domains.utf8)
            previousEnd = tick.end
            energy &+= tick.energyMicrojoules
            cpu &+= tick.cpuMicroseconds
        }
        let first = ticks.first!
        let row = JobSample(
            jobID: first.jobID, start: first.start, end: ticks.last!.end, energyMicrojoules: energy, cpuMicroseconds: cpu, perMinute: false,
            domains: "", maxCelsius: hottest)
        return (row, Data(bytes))
    }

    /// One tick of a pack as its blob holds it: its figures, and where its per-domain text lies
    /// in the blob (read without making a `String`: what a roll-up of many ticks sums).
    public struct PackedTick: Sendable {
        public var start: Double
        public var end: Double
        public var energyMicrojoules: Int64
        public var cpuMicroseconds: Int64
        public var maxCelsius: Double?
        /// The tick's `domains` text: these bytes of the blob.
        public var domains: Range<Int>
    }

    /// The ticks of a packed row that starts at `rowStart`; nil when `blob` is not one this
    /// format wrote (the caller keeps the row whole: its sums are still right).
    public static func ticks(startingAt rowStart: Double, blob: Data) -> [PackedTick]? {
        blob.withUnsafeBytes { raw -> [PackedTick]? in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard bytes.first == format else { return nil }
            var reader = Reader(bytes: bytes, position: 1)
            var ticks: [PackedTick] = []
            var previousEnd = rowStart
            while reader.position < bytes.count {
                guard let flags = reader.byte(), let end = reader.double() else { return nil }
                let start = flags & 1 == 0 ? previousEnd : reader.double()
                guard let start, let energy = reader.varint(), let cpu = reader.varint() else { return nil }
                let celsius = flags & 2 == 0 ? Double?.none : reader.double()
                guard flags & 2 == 0 || celsius != nil, let length = reader.varint(), let domains = reader.skip(count: length) else { return nil }
                ticks.append(PackedTick(
                    start: start, end: end, energyMicrojoules: Int64(bitPattern: energy), cpuMicroseconds: Int64(bitPattern: cpu),
                    maxCelsius: celsius, domains: domains))
                previousEnd = end
            }
            return ticks.isEmpty ? nil : ticks
        }
    }

    /// The ticks of a packed `row` as samples; nil when `blob` is not one this format wrote or a
    /// tick's text is not UTF-8 (the caller keeps the row whole: its sums are still right).
    public static func unpack(_ row: JobSample, blob: Data) -> [JobSample]? {
        guard let ticks = ticks(startingAt: row.start, blob: blob) else { return nil }
        return blob.withUnsafeBytes { raw -> [JobSample]? in
            let bytes = raw.bindMemory(to: UInt8.self)
            var samples: [JobSample] = []
            samples.reserveCapacity(ticks.count)
            for tick in ticks {
                guard let domains = String(validating: UnsafeBufferPointer(rebasing: bytes[tick.domains]), as: UTF8.self) else { return nil }
                samples.append(JobSample(
                    jobID: row.jobID, start: tick.start, end: tick.end, energyMicrojoules: tick.energyMicrojoules,
                    cpuMicroseconds: tick.cpuMicroseconds, perMinute: false, domains: domains, maxCelsius: tick.maxCelsius))
            }
            return samples
        }
    }

    private static func appendDouble(_ value: Double, to bytes: inout [UInt8]) {
        var bits = value.bitPattern
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bits >>= 8
        }
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Reads a blob front to back; nil past its end or on a malformed value.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int

        mutating func byte() -> UInt8? {
            guard position < bytes.count else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func double() -> Double? {
            guard position + 8 <= bytes.count else { return nil }
            var bits: UInt64 = 0
            for offset in (0..<8).reversed() { bits = bits << 8 | UInt64(bytes[position + offset]) }
            position += 8
            return Double(bitPattern: bits)
        }

        mutating func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = byte() {
                guard shift < 64 else { return nil }
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }

        /// The next `count` bytes' positions, passed over.
        mutating func skip(count: UInt64) -> Range<Int>? {
            guard count <= UInt64(bytes.count - position) else { return nil }
            defer { position += Int(count) }
            return position..<position + Int(count)
        }
    }
}
