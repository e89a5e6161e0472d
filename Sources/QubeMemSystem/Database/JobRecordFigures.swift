public import QubeMemSlurm
import QubeMem

/// What the audit's summary reads of one job record of slurmdbd's job table, handed over as
/// figures instead of a sacct row (`AccountingRows.onJob`, `--suggest-config` through the client
/// library): the values its sacct row would carry, so that the audit merges them alike
/// (`SacctAccumulator.addJob`). Making the row's text and reading it back was about a third of
/// the audit's CPU time at 10 M jobs (BENCHMARKS.md, issue 16).
///
/// The two texts point into the converter's row: they are valid only during the call they are
/// handed to.
public struct JobRecordFigures {
    /// The job as sacct's JobID names it (`123`, `123_4`, `123+1`).
    public var key: JobKey
    /// The job's state; nil for a number this SLURM release does not name (sacct: `UNKNOWN`).
    public var state: JobState?
    /// ElapsedRaw: seconds from start to end (or now), less the time suspended.
    public var elapsedSeconds: UInt64
    /// NNodes and AllocCPUS.
    public var nodes: UInt32
    public var cpus: UInt32
    /// ReqMem: the job's requested memory (TRES 2 of `tres_req`, MiB, as bytes), nil when none.
    public var requested: RequestedMemory?
    /// Comment (derived_es) and AdminComment, the stored bytes: never a `|` or a control
    /// character (rows with one are written as sacct rows instead).
    public var comment: UnsafeBufferPointer<UInt8>
    public var adminComment: UnsafeBufferPointer<UInt8>
}

extension AccountingRows {
    /// The current `J` row's job as `writeJobID` names it, or nil for a pending array's record
    /// (`123_[4-9]`, which names no one job).
    func jobKeyFromNumbers() -> JobKey? {
        let noValue: UInt64 = 0xFFFF_FFFE  // NO_VAL
        let arrayJob = number(Job.arrayJob), arrayTask = number(Job.arrayTask)
        if arrayTask < noValue, arrayJob != 0 { return JobKey(job: arrayJob, arrayTask: UInt32(truncatingIfNeeded: arrayTask)) }
        if arrayJob != 0, withField(Job.arrayTasks, { Self.isHexMask($0) }) { return nil }
        let hetJob = number(Job.hetJob), hetOffset = number(Job.hetOffset)
        if hetJob != 0, hetOffset < noValue { return JobKey(job: hetJob, hetComponent: UInt32(truncatingIfNeeded: hetOffset)) }
        return JobKey(job: number(Job.id))
    }

    /// True when `taskRanges(hexMask:)` finds tasks in this text (a pending array's record).
    static func isHexMask(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count > 2 && taskRanges(hexMask: String(decoding: bytes, as: UTF8.self)) != nil
    }

    /// The figures of the current `J` row, the job `key`, handed to `body`; false (nothing handed)
    /// when the row must be written as a sacct row instead: a Comment or
    /// AdminComment with a `|`, a control character or an escape (written cleaned, and split as sacct's
    /// own row would be), or a requested memory too large for bytes (refused as sacct's would be).
    /// - Parameter cpus: AllocCPUS, already checked to fit 32 bits.
    func withRecordFigures(key: JobKey, cpus: UInt64, _ body: (JobRecordFigures) -> Void) -> Bool {
        var requested: RequestedMemory? = nil
        if let mib = tres(Job.tresRequested, id: 2) {
            guard mib <= UInt64.max >> 20 else { return false }
            requested = .total(mib << 20)
        }
        return withField(Job.comment) { comment in
            guard isPlainFreeText(comment) else { return false }
            return withField(Job.adminComment) { admin in
                guard isPlainFreeText(admin) else { return false }
                body(JobRecordFigures(
                    key: key, state: AccountingSQL.state(number: number(Job.state)),
                    elapsedSeconds: UInt64(Self.elapsed(start: signed(Job.start), end: signed(Job.end),
                                                        suspended: signed(Job.suspended), now: now)),
                    nodes: UInt32(truncatingIfNeeded: number(Job.nodes)), cpus: UInt32(truncatingIfNeeded: cpus),
                    requested: requested, comment: comment, adminComment: admin))
                return true
            }
        }
    }

    /// True when free text has no control character, no `|` and (in the command-line client's
    /// text, `escaped`) no escape: its sacct field is its bytes. Eight bytes at a time: it reads
    /// both comments of every job (a byte at a time it was a thirtieth of the audit).
    func isPlainFreeText(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let n = bytes.count
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let backslash: UInt8 = escaped ? 0x5C : 0x00  // 0x00: a control character, already tested
        let backslashes = UInt64(backslash) &* ones
        /// Nonzero when a byte of `w` is zero (exact as to whether one is; `firstSpace`'s test).
        @inline(__always) func zeroByte(_ w: UInt64) -> UInt64 { (w &- ones) & ~w & highs }
        var i = 0
        let raw = UnsafeRawPointer(base)
        while i &+ 8 <= n {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            // Bytes below 0x20 (exact for such a test), DEL, '|', and the escape.
            let odd = ((w &- 0x20 &* ones) & ~w & highs) | zeroByte(w ^ (0x7F &* ones)) | zeroByte(w ^ (0x7C &* ones))
                | (escaped ? zeroByte(w ^ backslashes) : 0)
            if odd != 0 { return false }
            i &+= 8
        }
        while i < n {
            let b = base[i]
            if b < 0x20 || b == 0x7F || b == 0x7C || b == backslash { return false }
            i &+= 1
        }
        return true
    }
}
