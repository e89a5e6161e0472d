/// The coefficients that turn a budget into a memory request. Every one is a `qubemem.conf` key.
public struct RequestPolicy: Sendable, Equatable {
    /// Multiplier on baseline + peak (`slack`). Default 1.15: the reference's own 5–10%
    /// allocator/BLAS allowance, and the 11% seen uncached on the pixel-direct path (docs/facts.md §3).
    public var slack: Slack
    /// Interpreter and imports (`interpreter_floor`), bytes. Default 256 MiB (0.25 GiB measured).
    public var interpreterFloorBytes: UInt64
    /// Input covariances the run holds (`input_covariances`), each n_pix² × 8 bytes. Default 1.
    public var inputCovariances: UInt64
    /// What each rank of a multi-rank (MPI) run holds besides the interpreter floor
    /// (`mpi_rank_overhead`), bytes: mpi4py, the MPI library and its shared-memory segments.
    /// Default 0: on real mpiexec runs of QUBE 1.3.0 with the mpich wheel the interpreter floor
    /// already covered it (BENCHMARKS.md, MPI); a site whose MPI keeps large buffers per rank
    /// (registration caches, eager buffers) sets it.
    public var mpiRankOverheadBytes: UInt64
    /// Model used when a comment names none (`default_model`). Default: the latest, 1.3.
    public var defaultModel: ModelVersion
    /// Add qubemem's measured terms to the reference model (`measured_terms`). Default on.
    public var measuredTerms: Bool

    /// The documented defaults.
    public init() {
        slack = Slack(tenThousandths: 11_500)
        interpreterFloorBytes = 256 << 20
        inputCovariances = 1
        mpiRankOverheadBytes = 0
        defaultModel = .latest
        measuredTerms = true
    }
}
