import QubeMem
import QubeMemSlurm

/// The fields of the client row being converted, read in place, and the sacct fields written
/// from them.
extension AccountingRows {
    /// A field's first 40 bytes, for messages.
    func text(_ i: Int) -> String {
        if isBound(i) { return String(boundValues[i]) }
        return withField(i) { String(decoding: $0.prefix(40), as: UTF8.self) }
    }

    /// True when column `i` of the current row came as an integer (`feed(bound:)`).
    @inline(__always)
    func isBound(_ i: Int) -> Bool {
        i < 32 && boundMask & (1 << UInt32(i)) != 0
    }

    /// True when field `i` is empty or decimal digits with a value of at most `UInt32.max`.
    func fitsUInt32(_ i: Int) -> Bool {
        if isBound(i) { return boundValues[i] <= UInt64(UInt32.max) }
        return withField(i) { $0.isEmpty || DecimalText.parse($0, limit: UInt64(UInt32.max)) != nil }
    }

    /// Copies the row of `unmaterialized` into `line` and `starts` as the text rows are kept:
    /// the integer columns' fields empty (their values are in `boundValues`), a NULL text empty.
    mutating func materializeLine() {
        guard let row = unmaterialized else { return }
        unmaterialized = nil
        line.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        for column in 0..<Job.count {
            if column > 0 { line.append(0x09) }
            starts.append(line.count)
            if !isBound(column) { line.append(contentsOf: row.text(column)) }
        }
    }

    /// The bytes of field `i` (empty past the last).
    func fieldRange(_ i: Int) -> Range<Int> {
        guard i < starts.count else { return 0..<0 }
        let end = i + 1 < starts.count ? starts[i + 1] - 1 : line.count
        return starts[i]..<end
    }

    func field(_ i: Int) -> ArraySlice<UInt8> {
        line[fieldRange(i)]
    }

    /// Runs `body` on field `i`'s bytes without a copy or a reference count (an `ArraySlice` per
    /// field read cost a fifth of the conversion's time in retains and releases).
    @inline(__always)
    func withField<R>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let row = unmaterialized { return body(i < Job.count ? row.text(i) : UnsafeBufferPointer(start: nil, count: 0)) }
        let range = fieldRange(i)
        return line.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// A decimal field as a number (0 when empty or not a number).
    func number(_ i: Int, skip: Int = 0) -> UInt64 {
        if isBound(i) { return boundValues[i] }
        return withField(i) { DecimalText.parse(UnsafeBufferPointer(rebasing: $0.dropFirst(skip))) ?? 0 }
    }

    /// A decimal field that may be negative (-1 when empty).
    func signed(_ i: Int) -> Int64 {
        if isBound(i) { return Int64(truncatingIfNeeded: boundValues[i]) }
        guard let first = withField(i, { $0.first }) else { return -1 }  // a closure: a key path cost a lookup per call
        if first == UInt8(ascii: "-") { return -Int64(truncatingIfNeeded: number(i, skip: 1)) }
        return Int64(truncatingIfNeeded: number(i))
    }

    /// The value of one TRES in a `1=4,2=1024` list field, or nil when absent (or NO_VAL64).
    func tres(_ i: Int, id: UInt64) -> UInt64? {
        withField(i) { Self.tres($0, id: id) }
    }

    /// The value of one TRES in a `1=4,2=1024` list, or nil when absent (or NO_VAL64).
    static func tres(_ bytes: UnsafeBufferPointer<UInt8>, id: UInt64) -> UInt64? {
        var key: UInt64 = 0, value: UInt64 = 0, inValue = false, digits = 0
        func done() -> UInt64? { inValue && key == id && digits > 0 && value < 0xFFFF_FFFF_FFFF_FFFE ? value : nil }
        for b in bytes {
            if b == UInt8(ascii: ",") {
                if let v = done() { return v }
                key = 0; value = 0; inValue = false; digits = 0
            } else if b == UInt8(ascii: "=") {
                inValue = true
            } else if b >= 0x30, b <= 0x39 {
                if inValue {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(b - 0x30))
                    value = o1 || o2 ? UInt64.max : a
                    digits += 1
                } else {
                    key = key &* 10 &+ UInt64(b - 0x30)
                }
            }
        }
        return done()
    }

    // MARK: - Writing

    mutating func writeDecimal(_ value: UInt64) {
        DecimalDigits.append(value, to: &out)
    }

    mutating func writeDecimal(_ value: Int64) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        writeDecimal(value.magnitude)
    }

    /// Copies a text field, undoing the command-line client's escapes (`\t \n \\ \0`) when `escaped`:
    /// control characters become `?` (plain) or a space (Comment, AdminComment); plain fields also
    /// turn `|` into `?`.
    mutating func writeText(_ i: Int, plain: Bool) {
        // Most text has nothing to undo or replace: copied whole.
        let backslash: UInt8 = escaped ? 0x5C : 0x00  // 0x00: nothing to undo (the test below already refuses it)
        let pipe: UInt8 = plain ? 0x7C : 0x00
        // One pass without early exit, so that the compiler can test 16 or 32 bytes at a time
        // (the closure of `allSatisfy` was a twentieth of the conversion's time).
        let asIs = withField(i) { bytes in
            var odd: UInt8 = 0
            for b in bytes {
                odd |= (b < 0x20 ? 1 : 0) | (b == 0x7F ? 1 : 0) | (b == backslash ? 1 : 0) | (b == pipe ? 1 : 0)
            }
            return odd == 0
        }
        if asIs {
            let range = fieldRange(i)
            line.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
            return
        }
        let f = field(i)
        var index = f.startIndex
        while index < f.endIndex {
            var b = f[index]
            if escaped, b == 0x5C, f.index(after: index) < f.endIndex {
                index = f.index(after: index)
                switch f[index] {
                case UInt8(ascii: "t"): b = 0x09
                case UInt8(ascii: "n"): b = 0x0A
                case UInt8(ascii: "0"): b = 0x00
                default: b = f[index]
                }
            }
            out.append(Self.clean(b, plain: plain))
            index = f.index(after: index)
        }
    }

    /// sacct's JobID of a job: `123`, `123_4` for an array task, `123+1` for a heterogeneous
    /// component (`jobKeyFromNumbers` tells which a record is).
    mutating func writeJobID(_ key: JobKey) {
        writeDecimal(key.job)
        if key.arrayTask != JobKey.none {
            out.append(UInt8(ascii: "_"))
            writeDecimal(UInt64(key.arrayTask))
        }
        if key.hetComponent != JobKey.none {
            out.append(UInt8(ascii: "+"))
            writeDecimal(UInt64(key.hetComponent))
        }
    }

    /// sacct's JobID of the current `J` row when it is an array's record of its tasks not yet
    /// started (`jobKeyFromNumbers` is nil): `123_[4-9]`.
    mutating func writePendingArrayID() {
        let tasks = withField(Job.arrayTasks) { Self.taskRanges(hexMask: String(decoding: $0, as: UTF8.self)) } ?? ""
        writeDecimal(number(Job.arrayJob))
        out.append(contentsOf: Array("_[\(tasks)]".utf8))
    }

    /// A step's id as sacct prints it: `batch`, `extern`, `interactive`, or its number, with
    /// `+N` for a component of a heterogeneous step.
    mutating func writeStepName() {
        switch signed(Step.id) {
        case -5, 0xFFFF_FFFB: out.append(contentsOf: "batch".utf8)
        case -4, 0xFFFF_FFFC: out.append(contentsOf: "extern".utf8)
        case -6, 0xFFFF_FFFA: out.append(contentsOf: "interactive".utf8)
        case -3, 0xFFFF_FFFD: out.append(contentsOf: "pending".utf8)
        case let step: writeDecimal(step)
        }
        let component = number(Step.hetComponent)
        if component != 0xFFFF_FFFE {  // NO_VAL: not heterogeneous
            out.append(UInt8(ascii: "+"))
            writeDecimal(component)
        }
    }

    /// The state name, `CANCELLED by UID` when the database knows who cancelled (`requid`: the
    /// column of the canceller's uid, nil when not selected).
    mutating func writeState(_ i: Int, requid: Int?) {
        guard let state = AccountingSQL.state(number: number(i)) else {
            out.append(contentsOf: "UNKNOWN".utf8)
            return
        }
        out.append(contentsOf: state.rawValue.utf8)
        guard let requid else { return }
        let who = signed(requid)
        if state == .cancelled, who >= 0, who < 0xFFFF_FFFE {
            out.append(contentsOf: " by ".utf8)
            writeDecimal(who)
        }
    }

    // MARK: - Helpers

    /// Seconds from start to end (or now), less the time suspended; 0 before the start.
    static func elapsed(start: Int64, end: Int64, suspended: Int64, now: Int64) -> Int64 {
        guard start > 0 else { return 0 }
        let stop = end > 0 ? end : now
        return max(0, stop - start - max(0, suspended))
    }

    /// The tasks of a pending array's hex bit mask (`0x3F0` → `4-9`), or nil for no mask.
    static func taskRanges(hexMask: String) -> String? {
        guard hexMask.hasPrefix("0x"), hexMask.count > 2 else { return nil }
        var ranges: [String] = []
        var runStart: Int? = nil
        var task = 0
        for digit in hexMask.dropFirst(2).reversed() {  // the last digit holds tasks 0-3
            guard let value = digit.hexDigitValue else { return nil }
            for bit in 0..<4 {
                if value & (1 << bit) != 0 {
                    if runStart == nil { runStart = task }
                } else if let start = runStart {
                    ranges.append(start == task - 1 ? "\(start)" : "\(start)-\(task - 1)")
                    runStart = nil
                }
                task += 1
            }
        }
        if let start = runStart { ranges.append(start == task - 1 ? "\(start)" : "\(start)-\(task - 1)") }
        return ranges.isEmpty ? nil : ranges.joined(separator: ",")
    }

    /// A user name for the User field: control characters and `|` become `?`.
    static func plainBytes(_ s: String) -> [UInt8] {
        s.utf8.map { clean($0, plain: true) }
    }

    /// A byte of free text as written: control characters become `?` (plain fields) or a space
    /// (Comment, AdminComment); plain fields also turn `|` into `?`.
    static func clean(_ b: UInt8, plain: Bool) -> UInt8 {
        if b < 0x20 || b == 0x7F { return plain ? 0x3F : 0x20 }
        return plain && b == 0x7C ? 0x3F : b
    }
}
