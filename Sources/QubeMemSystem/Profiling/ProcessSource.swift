/// What the sampler needs from the operating system: the Linux-specific reads behind one small
/// interface. `ProcFS` implements it on /proc (live or a fixture copy).
public protocol ProcessSource: AnyObject {
    /// Every process (thread-group leader) id now present.
    func pids() -> [Int32]
    /// The most recently allocated pid; nil when unknown (then the tree is rescanned every time).
    func lastPid() -> Int32?
    func stat(_ pid: Int32) -> ProcStat?
    /// `status` of a followed process (the reader may keep it open between calls).
    func status(_ pid: Int32) -> ProcStatus?
    /// `statm` of a followed process (kept open like `status`): the RSS without the high-water
    /// mark, several times cheaper for the kernel to write.
    func statm(_ pid: Int32) -> ProcStatm?
    /// Bytes per page, for `statm`'s counts.
    var pageSize: UInt64 { get }
    /// The processes thread `tid` of process `pid` started and that have not been reaped
    /// (`task/TID/children`); nil when the file cannot be read (gone, or a kernel without
    /// CONFIG_PROC_CHILDREN). The reader may keep the main thread's file open.
    func children(of pid: Int32, thread tid: Int32) -> [Int32]?
    /// The thread ids of a process (`task/`); empty when it is gone.
    func threads(of pid: Int32) -> [Int32]
    /// `status` read once, keeping nothing open (for ids that may not join the tree).
    func probeStatus(_ pid: Int32) -> ProcStatus?
    func smapsRollup(_ pid: Int32) -> SmapsRollup?
    /// The process's rank variable and command line (`environ`, `cmdline`), read once, nothing kept
    /// open. Fields are empty when unreadable.
    func identity(_ pid: Int32) -> ProcessIdentity
    /// Resets the process's VmHWM to its current RSS; false when refused.
    func resetHighWaterMark(_ pid: Int32) -> Bool
    /// The process ended: drop anything kept for it.
    func forget(_ pid: Int32)
}
