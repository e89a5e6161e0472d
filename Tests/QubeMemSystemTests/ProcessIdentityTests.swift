import Testing
@testable import QubeMemSystem

@Suite struct ProcessIdentityTests {
    @Test func theMostSpecificRankVariableWinsAndTheCommandLineIsJoined() {
        let id = ProcFS(root: Fixtures.proc).identity(4242)
        // PMI_RANK beats SLURM_PROCID; OMPI_COMM_WORLD_RANK=junk is not a number.
        #expect(id.rankVariable == "PMI_RANK" && id.rank == 3)
        #expect(id.commandLine == "python3 drive.py --nside 16")
    }

    @Test func anUnreadableOrRanklessProcessHasNoRank() {
        let gone = ProcFS(root: Fixtures.proc).identity(4243)
        #expect(gone == ProcessIdentity())
        let plain = ProcessIdentity.parse(environ: Array("HOME=/\u{0}PMI_SIZE=4\u{0}".utf8), cmdline: nil)
        #expect(plain.rank == nil && plain.rankVariable == nil)
        let srun = ProcessIdentity.parse(environ: Array("SLURM_PROCID=7\u{0}".utf8), cmdline: Array("a\u{0}".utf8))
        #expect(srun.rankVariable == "SLURM_PROCID" && srun.rank == 7 && srun.commandLine == "a")
    }

    @Test func aLongCommandLineIsCut() {
        let long = ProcessIdentity.commandLine(Array(String(repeating: "x", count: 500).utf8))
        #expect(long.count == ProcessIdentity.commandLineLimit && long.hasSuffix("…"))
    }
}
