/// One process's use of one GPU over a tick, as the GPU's driver reports it (NVML): the
/// attribution's weight for the job the process belongs to.
public struct GPUProcessUse: Equatable, Sendable {
    public var pid: Int32
    /// Σ SM utilization (percent) of the process's samples since the last tick; nil when the
    /// driver gave none (the process holds the GPU: a context, memory).
    public var smPercent: UInt64?

    public init(pid: Int32, smPercent: UInt64?) {
        self.pid = pid
        self.smPercent = smPercent
    }

    /// The weights of a GPU's processes this tick (DESIGN.md, "Attribution"): their SM
    /// utilization when any sample is above zero (a process without one did not compute);
    /// otherwise every process that holds the GPU weighs the same, so they share its active
    /// energy equally (a library without per-process samples, MIG, a quiet window).
    public static func weight(of use: GPUProcessUse, among uses: ArraySlice<GPUProcessUse>) -> UInt64 {
        anySampled(uses) ? use.smPercent ?? 0 : 1
    }

    /// Whether any process of the GPU has an SM sample above zero this tick.
    public static func anySampled(_ uses: ArraySlice<GPUProcessUse>) -> Bool {
        uses.contains { ($0.smPercent ?? 0) > 0 }
    }
}
