import ErgometerCore
import Testing

/// The folder names each scheduler really makes, and what the rules make of them.
struct SchedulerCgroupRulesTests {
    let rules = SchedulerCgroupRules(systemdUnits: ["train-*.service", "user.slice/*.scope"])

    func decide(_ path: String, _ rules: SchedulerCgroupRules? = nil) -> SchedulerCgroupRules.Decision {
        (rules ?? self.rules).classify(path.split(separator: "/"))
    }

    func job(_ path: String, _ rules: SchedulerCgroupRules? = nil) -> SchedulerJobIdentity? {
        if case .job(let identity) = decide(path, rules) { return identity }
        return nil
    }

    @Test func slurmOnCgroupV2ByIdAndBySLUID() {
        #expect(decide("system.slice") == .descend)
        #expect(decide("system.slice/slurmstepd.scope") == .descend)
        #expect(decide("system.slice/node17_slurmstepd.scope") == .descend)
        #expect(job("system.slice/slurmstepd.scope/job_4242") == SchedulerJobIdentity(scheduler: .slurm, jobID: "4242", defaultName: "slurm-4242"))
        #expect(job("system.slice/node17_slurmstepd.scope/job_7")?.jobID == "7")
        #expect(job("system.slice/slurmstepd.scope/sZ9X3KQ2WB")?.jobID == "sZ9X3KQ2WB")
        #expect(decide("system.slice/slurmstepd.scope/system") == .skip)
    }

    @Test func slurmOnCgroupV1NamesItsUser() {
        #expect(decide("slurm_vm") == .descend)
        #expect(decide("slurm") == .descend)
        #expect(decide("slurm_vm/uid_1000") == .descend)
        #expect(job("slurm_vm/uid_1000/job_12") == SchedulerJobIdentity(scheduler: .slurm, jobID: "12", defaultName: "slurm-12", uid: 1000))
        #expect(job("slurm/uid_0/job_3")?.uid == 0)
        #expect(decide("slurm_vm/uid_1000/job_12/step_batch") == .skip, "a scan never descends into a job; a step is never a job")
        #expect(decide("slurm_vm/system") == .skip)
    }

    @Test func containersAndPods() {
        let id = "4f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d"
        #expect(job("system.slice/docker-\(id).scope") == SchedulerJobIdentity(scheduler: .docker, jobID: "4f1c2a9d8e7b", defaultName: "docker-4f1c2a9d8e7b"))
        #expect(job("machine.slice/libpod-\(id).scope")?.scheduler == .podman)
        #expect(decide("machine.slice/libpod-conmon-\(id).scope") == .skip)
        #expect(job("system.slice/cri-containerd-\(id).scope")?.scheduler == .containerd)
        #expect(job("system.slice/crio-\(id).scope")?.scheduler == .crio)
        #expect(decide("system.slice/crio-conmon-\(id).scope") == .skip)
        #expect(job("docker/\(id)")?.jobID == "4f1c2a9d8e7b", "the cgroupfs driver")
        // Pods: systemd driver (underscores for the UID's dashes) and cgroupfs.
        #expect(decide("kubepods.slice") == .descend)
        #expect(decide("kubepods.slice/kubepods-burstable.slice") == .descend)
        let pod = job("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod8d3e2f1a_7c6b_4a5d_9e8f_1a2b3c4d5e6f.slice")
        #expect(pod == SchedulerJobIdentity(scheduler: .kubernetes, jobID: "8d3e2f1a-7c6b-4a5d-9e8f-1a2b3c4d5e6f", defaultName: "pod-8d3e2f1a-7c6b-4a5d-9e8f-1a2b3c4d5e6f"))
        #expect(job("kubepods.slice/kubepods-pod0a1b2c3d_0000_4000_8000_000000000001.slice")?.jobID == "0a1b2c3d-0000-4000-8000-000000000001")
        #expect(job("kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-000000000002")?.jobID == "0a1b2c3d-0000-4000-8000-000000000002")
        #expect(job("kubepods/pod0a1b2c3d-0000-4000-8000-000000000003")?.scheduler == .kubernetes)
    }

    @Test func systemdUnitsOnlyWhenTheyMatch() {
        #expect(job("system.slice/train-resnet.service") == SchedulerJobIdentity(scheduler: .systemd, jobID: "train-resnet.service", defaultName: "train-resnet.service"))
        #expect(decide("system.slice/cron.service") == .skip)
        #expect(job("user.slice/user-1000.slice/session-3.scope")?.jobID == "session-3.scope")
        #expect(decide("system.slice/session-3.scope") == .skip, "user.slice/*.scope: only under user.slice")
        #expect(decide("user.slice/user-1000.slice/user@1000.service") == .descend)
        #expect(job("user.slice/user-1000.slice/user@1000.service/app.slice/run-u12.scope")?.jobID == "run-u12.scope")
        #expect(decide("user.slice/user-1000.slice/user@1000.service", SchedulerCgroupRules()) == .skip, "no patterns: no user managers walked")
    }

    @Test func sourcesTurnOffAndOurOwnSubtreeIsNeverAScheduler() {
        let off = SchedulerCgroupRules(slurm: false, containers: false)
        #expect(!off.isEnabled)
        #expect(job("system.slice/slurmstepd.scope/job_1", off) == nil)
        #expect(job("system.slice/docker-4f1c2a9d8e7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d.scope", off) == nil)
        #expect(decide("ergometer") == .skip)
        #expect(decide(String(repeating: "a.slice/", count: 11) + "x.slice") == .skip, "no deeper than the bound")
    }

    @Test(arguments: [
        ("train-*.service", "train-a.service", true), ("train-*.service", "train-.service", true),
        ("train-*.service", "xtrain-a.service", false), ("*.scope", "session-1.scope", true),
        ("run-u?.scope", "run-u1.scope", true), ("run-u?.scope", "run-u12.scope", false),
        ("*a*b*", "xxaxxbxx", true), ("*a*b", "ab-a", false), ("", "", true), ("*", "", true),
    ])
    func globs(pattern: String, name: String, matches: Bool) {
        #expect(Glob.matches(pattern[...], name[...]) == matches)
    }
}
