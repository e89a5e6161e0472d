import Testing
@testable import QubeMemSystem

@Suite struct CgroupPathsTests {
    func location(_ name: String) -> Result<MemoryCgroupLocation, MemoryCgroupLocation.Failure> {
        MemoryCgroupLocation.resolve(CgroupMembership.parse(Fixtures.bytes("../cgroup/\(name).cgroup")) ?? [],
                                     mounts: CgroupMount.parse(mountinfo: Fixtures.bytes("../cgroup/\(name).mountinfo")))
    }

    @Test func theV1MemoryControllerWinsOnAHybridSystem() throws {
        let l = try location("v1-hybrid").get()
        #expect(l.version == 1)
        #expect(l.path == "/process_api/268e93e2f069076d3fda1c5db09ba70a")
        #expect(l.directory == "/sys/fs/cgroup/memory/process_api/268e93e2f069076d3fda1c5db09ba70a")
        #expect(l.usageFile.hasSuffix("/memory.usage_in_bytes") && l.peakFile.hasSuffix("/memory.max_usage_in_bytes"))
        #expect(l.enclosingSlurmJob("4711") == nil)
    }

    @Test func aV2OnlySystemUsesTheUnifiedHierarchyAndItsPeakFile() throws {
        let l = try location("v2").get()
        #expect(l.version == 2)
        #expect(l.directory == "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope")
        #expect(l.usageFile.hasSuffix("/memory.current") && l.peakFile.hasSuffix("/memory.peak"))
    }

    @Test func aSlurmTaskFindsItsJobsCgroupUnderV1AndV2() throws {
        let v1 = try location("slurm-v1").get()
        let job = try #require(v1.enclosingSlurmJob("4711"))
        #expect(job.path == "/slurm/uid_1000/job_4711")
        #expect(job.directory == "/sys/fs/cgroup/memory/slurm/uid_1000/job_4711")
        #expect(v1.enclosingSlurmJob("4712") == nil)
        #expect(v1.enclosingSlurmJob("47 11") == nil)
        let v2 = try MemoryCgroupLocation.resolve(CgroupMembership.parse(Fixtures.bytes("../cgroup/slurm-v2.cgroup")) ?? [],
                                                  mounts: CgroupMount.parse(mountinfo: Fixtures.bytes("../cgroup/v2.mountinfo"))).get()
        let job2 = try #require(v2.enclosingSlurmJob("4711"))
        #expect(job2.directory == "/sys/fs/cgroup/system.slice/slurmstepd.scope/job_4711")
        #expect(job2.peakFile == "/sys/fs/cgroup/system.slice/slurmstepd.scope/job_4711/memory.peak")
    }

    @Test func aContainersMountRootIsTakenOffThePathAndEscapesDecoded() throws {
        let l = try location("container").get()
        #expect(l.directory == "/sys/fs/cgroup/my memory/inner")
        // The same cgroup file against a mount of another container's part of the hierarchy.
        let other = [CgroupMount(version: 1, mountPoint: "/m", root: "/docker/zzz", superOptions: ["rw", "memory"])]
        let outside = MemoryCgroupLocation.resolve(CgroupMembership.parse(Fixtures.bytes("../cgroup/container.cgroup")) ?? [], mounts: other)
        #expect(outside == .failure(.outsideMount(path: "/docker/abc123/inner", mountRoot: "/docker/zzz")))
    }

    @Test func failuresSayWhatIsMissing() {
        let onlyCPU = CgroupMembership.parse(Array("3:cpu:/\n".utf8)) ?? []
        let r = MemoryCgroupLocation.resolve(onlyCPU, mounts: [], cgroupFile: "3:cpu:/")
        #expect(r == .failure(.noMemoryHierarchy(cgroupFile: "3:cpu:/")))
        #expect("\(MemoryCgroupLocation.Failure.noMemoryHierarchy(cgroupFile: "3:cpu:/"))".contains("'3:cpu:/'"))
        let unmounted = MemoryCgroupLocation.resolve(CgroupMembership.parse(Array("4:memory:/a\n".utf8)) ?? [], mounts: [])
        #expect(unmounted == .failure(.notMounted(version: 1)))
        #expect(CgroupMembership.parse(Array("garbage\n".utf8)) == nil)
    }

    @Test(arguments: [
        ("c1", "123456\n", UInt64(123456) as UInt64?),
        ("c2", "0\n", 0),
        ("c3", "max\n", nil),
        ("c4", "", nil),
        ("c5", "12 34\n", nil),
        ("c6", "99999999999999999999999\n", nil),
    ])
    func counterFilesParseToBytesOrNothing(id: String, text: String, expected: UInt64?) {
        #expect(parseCgroupCounter(Array(text.utf8)) == expected, "case \(id)")
    }

    @Test func unavailableReasonsQuoteThePath() {
        let e = SystemError(call: "mkdir", subject: "/x/qubemem-profile-1", errno: 13)
        let text = MemoryCgroup.Unavailable.cannotCreate(path: "/x/qubemem-profile-1", e).description
        #expect(text.contains("'/x/qubemem-profile-1'") && text.contains("Permission denied"))
        #expect(MemoryCgroup.Unavailable.slurmJobNotFound(jobID: "9", path: "/a").description.contains("SLURM job 9"))
        let join = MemoryCgroup.Unavailable.cannotJoin(path: "/x/q", SystemError(call: "write", subject: "/x/q/cgroup.procs <- 7", errno: 1))
        #expect(join.description == "cannot start the command inside the cgroup '/x/q': write '/x/q/cgroup.procs <- 7': Operation not permitted (errno 1)")
    }
}
