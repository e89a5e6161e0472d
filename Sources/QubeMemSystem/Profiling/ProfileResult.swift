/// Everything `qubemem profile` measured about one run. Sizes in bytes, times in seconds after the
/// command started. Codable, so the CLI writes it as JSON as is.
public struct ProfileResult: Sendable, Codable, Equatable {
    /// One point of the timeline.
    public struct Sample: Sendable, Codable, Equatable {
        public var time: Double
        /// Σ VmRSS over the tree at this instant.
        public var rssBytes: UInt64
        /// Upper bound of the tree's RSS during the interval ending here: the bound of the marks
        /// window that holds the interval (see `peakBytes`), so equal for every sample of a window.
        public var intervalPeakBytes: UInt64
        /// Σ Pss over the tree when smaps_rollup was read at this sample.
        public var pssBytes: UInt64?
        public var processes: Int
        /// The cgroup's charge at this instant (`ProfileResult.cgroup`), bytes; read at the samples
        /// that read the high-water marks (every `marksEverySeconds`), nil at the others and
        /// without a cgroup.
        public var cgroupBytes: UInt64? = nil
        /// Index in `stages` of the innermost stage open during the interval, if any.
        public var stage: Int?
    }

    /// One occurrence of a stage.
    public struct Stage: Sendable, Codable, Equatable {
        public var name: String
        /// 0 for a top-level stage, 1 inside another, ...
        public var depth: Int
        public var enter: Double
        public var exit: Double?
        /// Σ RSS when the stage was entered / left.
        public var entryRSSBytes: UInt64
        public var exitRSSBytes: UInt64?
        /// The tree peak inside the stage (same definition as the run's `peakBytes`).
        public var peakBytes: UInt64
        public var peakTime: Double
        /// The largest sampled Σ RSS inside the stage (a lower bound).
        public var peakSampledBytes: UInt64
    }

    public struct Process: Sendable, Codable, Equatable {
        public var pid: Int32
        public var ppid: Int32
        public var name: String
        public var firstSeen: Double
        public var ended: Double?
        /// Its own peak RSS (VmHWM, or ru_maxrss when the profiler reaped it), bytes. Pages it
        /// shares with other processes (after a fork) count in full here and in theirs.
        public var peakBytes: UInt64
        /// Seconds after the start of the reading that found that peak (within one marks window
        /// after it; for a process reaped above every reading, its end).
        public var peakTime: Double = 0
        public var reapedByProfiler: Bool
        /// Its MPI rank variable and command line (`ProcessIdentity`).
        public var identity = ProcessIdentity()
    }

    /// The charge of the memory cgroup that held the run (see `MemoryCgroup`).
    public struct CgroupFigure: Sendable, Codable, Equatable {
        public var kind: MemoryCgroup.Kind
        /// 1 or 2.
        public var version: Int
        /// The cgroup's directory.
        public var directory: String
        /// The kernel's high-water mark of the charge, bytes, read at the end
        /// (`memory.max_usage_in_bytes` / `memory.peak`): exact, however short the peak. For
        /// `slurmJob`, since the job started, so it may predate the command. nil when unreadable.
        public var peakBytes: UInt64?
        /// The largest charge sampled during the run (`memory.usage_in_bytes` /
        /// `memory.current`, read with the high-water marks), bytes, and when.
        public var peakSampledBytes: UInt64
        public var peakSampledTime: Double
        /// The charge when the command started, bytes (0 for a new cgroup).
        public var startBytes: UInt64
        /// Why the cgroup could not be removed at the end, nil when it was (or is not ours).
        public var removalError: String?
    }

    public struct BreakdownEntry: Sendable, Codable, Equatable {
        public var key: String
        public var bytes: UInt64
    }

    public var command: [String]
    public var intervalSeconds: Double
    /// How often the high-water marks were read and reset (the window of `peakBytes`), seconds: the
    /// interval, or a multiple of it when the interval is shorter than `Profiler.Options.marksEvery`.
    public var marksEverySeconds: Double
    public var elapsedSeconds: Double
    /// CPU time of the tree: the command and every descendant that was waited for.
    public var userSeconds: Double
    public var systemSeconds: Double
    /// How the command ended.
    public var exit: ExitStatus
    /// The run was killed after the timeout.
    public var timedOut: Bool

    /// The tree's peak RSS: the largest over marks windows (`marksEverySeconds`) of Σ per-process
    /// maximum RSS in the window (VmHWM reset at every marks reading, ru_maxrss for processes
    /// reaped in the window). It is never below the true peak of Σ RSS, and equals it unless two
    /// processes peaked at different instants of the same window; `peakSampledBytes` is the
    /// matching lower bound.
    public var peakBytes: UInt64
    public var peakTime: Double
    /// The largest Σ RSS actually seen at a sample instant (a lower bound of the peak).
    public var peakSampledBytes: UInt64
    public var peakSampledTime: Double
    /// False when the kernel refused to reset VmHWM: `peakBytes` is then Σ lifetime maxima, a
    /// looser upper bound.
    public var highWaterMarksReset: Bool
    /// smaps_rollup summed over the tree at the sample nearest the peak where it was read.
    public var peakBreakdown: [BreakdownEntry]
    public var peakBreakdownTime: Double?
    /// Σ RSS at the first stage's entry (the interpreter, imports and inputs); 0 without stages.
    public var baselineBytes: UInt64
    public var samples: [Sample]
    public var stages: [Stage]
    public var processes: [Process]
    /// Pids of descendants still running when the command ended (no longer measured).
    public var leftRunning: [Int32]
    /// CPU seconds the profiler itself used.
    public var profilerCPUSeconds: Double
    /// The run's memory cgroup figure; nil with `cgroupUnavailable` saying why.
    public var cgroup: CgroupFigure? = nil
    /// Why there is no cgroup figure (nil when there is one).
    public var cgroupUnavailable: String? = nil

    /// The breakdown value of one smaps_rollup key, 0 when absent.
    public func breakdown(_ key: String) -> UInt64 {
        peakBreakdown.first { $0.key == key }?.bytes ?? 0
    }
}
