/// What the sampler needs from the operating system: the Linux-specific reads behind one small
/// interface. `ProcFS` implements it on /proc (live or a fixture copy).
public protocol ProcessSource {
    /// Every process id now present.
    func pids() -> [Int32]
    /// The most recently allocated pid; nil when unknown (then the tree is rescanned every time).
    func lastPid() -> Int32?
    func stat(_ pid: Int32) -> ProcStat?
    func status(_ pid: Int32) -> ProcStatus?
    func smapsRollup(_ pid: Int32) -> SmapsRollup?
    /// Resets the process's VmHWM to its current RSS; false when refused.
    func resetHighWaterMark(_ pid: Int32) -> Bool
}

extension ProcFS: ProcessSource {}
