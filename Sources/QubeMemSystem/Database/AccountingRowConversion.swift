#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QubeMem
import QubeMemSlurm

/// One client row at a time: each kind of row (`N`, `D`, `J`, `S`) checked and turned into its
/// sacct row, with the bookkeeping that lets a step find its job.
extension AccountingRows {
    mutating func splitLine() {
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
        line.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count, let tab = memchr(base + offset, 0x09, bytes.count - offset) {
                offset = UnsafeRawPointer(tab) - UnsafeRawPointer(base) + 1
                starts.append(offset)
            }
        }
    }

    mutating func convertLine() {
        splitLine()
        convertFields()
    }

    /// Converts the row in `line` whose fields begin at `starts`.
    mutating func convertFields() {
        let kind = field(0)
        guard kind.count == 1, let tag = kind.first else { return refuse("no row kind (N, A, D, J or S) in the first column") }
        switch tag {
        case UInt8(ascii: "N"):
            guard starts.count == 2 else { return refuse("2 columns expected in an N row, found \(starts.count)") }
            // Twice the estimate: InnoDB's can be tens of percent low (2.67 M for 3 M rows here),
            // and a table reserved a little too small doubles near its full size, which is the
            // peak a reserve is meant to avoid. Reserved room is not touched: room beyond the jobs
            // written costs address space only.
            let estimate = Int(min(number(1), 1 << 25)) * 2
            written.reserveCapacity(estimate)
            onEstimate?(estimate)
        case UInt8(ascii: "A"):
            guard starts.count == Association.count else {
                return refuse("\(Association.count) columns expected in an A row, found \(starts.count)")
            }
            guard fitsUInt32(Association.id) else {
                return refuse("id_assoc '\(text(Association.id))' is not an unsigned 32-bit number")
            }
            associations[UInt32(truncatingIfNeeded: number(Association.id))] =
                (textBytes(Association.user), textBytes(Association.account))
        case UInt8(ascii: "D"):
            guard starts.count == Requeued.count else {
                return refuse("\(Requeued.count) columns expected in a D row, found \(starts.count)")
            }
            guard fitsUInt32(Requeued.id) else { return refuse("id_job '\(text(Requeued.id))' is not an unsigned 32-bit number") }
            requeued[UInt32(truncatingIfNeeded: number(Requeued.id))] = signed(Requeued.newestSubmit)
        case UInt8(ascii: "J"):
            guard !jobsFinished else { return refuse("a job row after the steps began") }
            guard starts.count == Job.count else {
                return refuse("\(Job.count) columns expected in a J row, found \(starts.count)")
            }
            convertJob()
        case UInt8(ascii: "S"):
            guard starts.count == Step.count else {
                return refuse("\(Step.count) columns expected in an S row, found \(starts.count)")
            }
            for column in Step.unsigned32 where !fitsUInt32(column) {
                return refuse("\(AccountingSQL.stepColumns[column]) '\(text(column))' is not an unsigned 32-bit number")
            }
            if onStepFigures != nil {
                onStepFigures?(stepFigures())
            } else {
                writeStep()
            }
        default:
            refuse("row kind '\(text(0))' is not N, A, D, J or S")
        }
    }

    /// Converts the current `J` row: held when its job has a newer record, else written.
    mutating func convertJob() {
        for column in Job.unsigned32 where !fitsUInt32(column) {
            return refuse("\(AccountingSQL.jobColumns[column]) '\(text(column))' is not an unsigned 32-bit number")
        }
        let id = UInt32(truncatingIfNeeded: number(Job.id))
        noteSeen(record: number(Job.record))
        if let newest = requeued[id] {
            let submit = signed(Job.submit), record = number(Job.record)
            guard submit >= newest else {
                // An older record: held until it is known whether a newer one is in the window.
                if let kept = held[id], (kept.submit, kept.record) >= (submit, record) { return }
                if let replaced = held[id] { heldRecords.remove(replaced.record) }
                materializeLine()
                held[id] = HeldRecord(submit: submit, record: record, line: line, starts: starts, boundMask: boundMask,
                                      boundValues: boundMask == 0 ? [] : boundValues)
                heldRecords.insert(record)
                return
            }
            newestWritten.insert(id)
        }
        writeJob(late: false)
    }

    /// Writes the job row of the current `J` line (or hands its figures to `onJob`) and
    /// remembers its JobID and Account for its steps.
    mutating func writeJob(late: Bool) {
        let allocatedCPUs = tres(Job.tresAlloc, id: 1) ?? 0
        guard allocatedCPUs <= UInt64(UInt32.max) else {
            return refuse("j.tres_alloc CPU count \(allocatedCPUs) is wider than SLURM's 32-bit CPU counts")
        }
        let record = number(Job.record)
        let key = jobKeyFromNumbers()
        if let onJob, let key, withRecordFigures(key: key, cpus: allocatedCPUs, onJob) {
            // The steps come as figures: no step row needs the Account.
            remember(WrittenJob(record: record, key: key, account: 0), late: late)
            return
        }
        materializeLine()  // written as a sacct row: from `line`
        if let key {
            writeJobID(key)
        } else {
            let idStart = out.count
            writePendingArrayID()
            pendingArrayIDs[record] = Array(out[idStart...])
        }
        remember(WrittenJob(record: record, key: key, account: accountNumber()), late: late)
        out.append(0x7C)
        writeText(Job.name, plain: true)  // JobName
        out.append(0x7C)
        let association = associations[UInt32(truncatingIfNeeded: number(Job.association))]
        if let association {
            out.append(contentsOf: association.user)  // User, as slurmdbd gives it
        } else {
            let uid = UInt32(truncatingIfNeeded: number(Job.user))
            if names[uid] == nil { names[uid] = Self.plainBytes(userName(uid)) }
            out.append(contentsOf: names[uid] ?? [])
        }
        out.append(0x7C)
        writeAccount(association: association?.account)  // Account
        out.append(0x7C)
        writeText(Job.partition, plain: true)  // Partition
        out.append(0x7C)
        writeState(Job.state, requid: Job.cancelledBy)
        out.append(0x7C)
        writeDecimal(Self.elapsed(start: signed(Job.start), end: signed(Job.end), suspended: signed(Job.suspended), now: now))
        out.append(0x7C)
        writeDecimal(number(Job.nodes))  // NNodes
        out.append(contentsOf: [0x7C, 0x7C])  // no NTasks for the allocation
        writeDecimal(allocatedCPUs)  // AllocCPUS
        out.append(0x7C)
        if let mib = tres(Job.tresRequested, id: 2) {  // ReqMem
            writeDecimal(mib)
            out.append(UInt8(ascii: "M"))
        }
        out.append(contentsOf: [0x7C, 0x7C, 0x7C])  // no MaxRSS or TRES for the allocation
        writeText(Job.comment, plain: false)  // Comment
        out.append(0x7C)
        writeText(Job.adminComment, plain: false)  // AdminComment
        out.append(0x0A)
    }

    /// Notes a job written, for its steps.
    private mutating func remember(_ entry: WrittenJob, late: Bool) {
        if late {
            writtenLate.append(entry)
        } else {
            if let last = written.last, last.record >= entry.record { writtenInOrder = false }
            written.append(entry)
        }
    }

    /// A plain text field as `writeText` writes it, on its own.
    mutating func textBytes(_ i: Int) -> [UInt8] {
        let start = out.count
        writeText(i, plain: true)
        defer { out.removeSubrange(start...) }
        return Array(out[start...])
    }

    /// The current job line's account: its own, else its association's.
    mutating func writeAccount(association: [UInt8]?) {
        if withField(Job.account, { $0.isEmpty }), let association {
            out.append(contentsOf: association)
        } else {
            writeText(Job.account, plain: true)
        }
    }

    /// The number of the current job line's account in `accounts` (a site has few accounts).
    mutating func accountNumber() -> UInt32 {
        let start = out.count
        writeAccount(association: associations[UInt32(truncatingIfNeeded: number(Job.association))]?.account)
        // Most jobs have the previous job's account: compared in place, without a copy or a hash.
        if lastAccount < accounts.count, accounts[lastAccount].elementsEqual(out[start...]) {
            out.removeSubrange(start...)
            return UInt32(truncatingIfNeeded: lastAccount)
        }
        let bytes = Array(out[start...])
        out.removeSubrange(start...)
        if let known = accountNumbers[bytes] {
            lastAccount = Int(known)
            return known
        }
        let number = UInt32(truncatingIfNeeded: accounts.count)
        accounts.append(bytes)
        accountNumbers[bytes] = number
        lastAccount = Int(number)
        return number
    }

    /// The written job of a record, or nil.
    mutating func writtenJob(record: UInt64) -> WrittenJob? {
        // Steps come in record order: most are the last step's job, or the next one.
        if lastStepJob < written.count, written[lastStepJob].record == record { return written[lastStepJob] }
        if lastStepJob + 1 < written.count, written[lastStepJob + 1].record == record {
            lastStepJob += 1
            return written[lastStepJob]
        }
        if let i = Self.search(written, record) {
            lastStepJob = i
            return written[i]
        }
        return Self.search(writtenLate, record).map { writtenLate[$0] }
    }

    /// Bisection in jobs sorted by record.
    static func search(_ jobs: [WrittenJob], _ record: UInt64) -> Int? {
        var low = 0, high = jobs.count
        while low < high {
            let mid = (low + high) / 2
            if jobs[mid].record < record { low = mid + 1 } else { high = mid }
        }
        return low < jobs.count && jobs[low].record == record ? low : nil
    }

    /// Writes the step row of the current `S` line, under its job's id; nothing for a step of a
    /// record that was not written (another record of a requeued job, or outside the window).
    /// The fields the audit does not read of a step (its name, elapsed time and CPUs) are left
    /// empty: the statement does not select them.
    mutating func writeStep() {
        guard let job = writtenJob(record: number(Step.record)) else { return }
        if let key = job.key {
            writeJobID(key)
        } else {
            out.append(contentsOf: pendingArrayIDs[job.record] ?? [])
        }
        out.append(UInt8(ascii: "."))
        writeStepName()
        out.append(contentsOf: [0x7C, 0x7C, 0x7C])  // no JobName (not selected), no User for steps
        if Int(job.account) < accounts.count { out.append(contentsOf: accounts[Int(job.account)]) }  // Account: the job's
        out.append(contentsOf: [0x7C, 0x7C])  // no Partition for steps
        writeState(Step.state, requid: nil)
        out.append(contentsOf: [0x7C, 0x7C])  // no Elapsed (not selected)
        writeDecimal(number(Step.nodes))  // NNodes
        out.append(0x7C)
        writeDecimal(number(Step.tasks))  // NTasks
        out.append(contentsOf: [0x7C, 0x7C, 0x7C])  // no AllocCPUS (not selected), no ReqMem for steps
        if let maxRSS = tres(Step.tresMax, id: 2) { writeDecimal(maxRSS) }
        out.append(0x7C)
        if let total = tres(Step.tresTotal, id: 2) {
            out.append(contentsOf: [0x6D, 0x65, 0x6D, 0x3D])  // "mem="
            writeDecimal(total)
        }
        out.append(contentsOf: [0x7C, 0x7C, 0x0A])  // no Comment or AdminComment for steps
    }

    mutating func refuse(_ reason: String) {
        materializeLine()
        unreadable += 1
        if firstUnreadable == nil {
            firstUnreadable = String(decoding: line.prefix(200), as: UTF8.self)
            firstUnreadableReason = reason
        }
    }
}
