import QubeMem

/// The job a sacct row belongs to: plain `123`, array task `123_4`, heterogeneous component `123+0`.
///
/// Each array task and each heterogeneous component is its own allocation with its own memory, so
/// each is audited as one job.
public struct JobKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Marks "no array task" / "no heterogeneous component".
    public static let none = UInt32.max

    public var job: UInt64
    public var arrayTask: UInt32
    public var hetComponent: UInt32

    public init(job: UInt64, arrayTask: UInt32 = JobKey.none, hetComponent: UInt32 = JobKey.none) {
        self.job = job
        self.arrayTask = arrayTask
        self.hetComponent = hetComponent
    }

    /// One combine per key (the audit hashes a key per row). Inlinable, as `<`: the audit's merge
    /// is in another module and calls both once per row.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(job ^ (UInt64(arrayTask) << 40) ^ (UInt64(hetComponent) << 20))
    }

    /// The id as sacct prints it: `123`, `123_4`, `123+0`.
    public var description: String {
        var text = String(job)
        if arrayTask != JobKey.none { text += "_" + String(arrayTask) }
        if hetComponent != JobKey.none { text += "+" + String(hetComponent) }
        return text
    }

    @inlinable
    public static func < (a: JobKey, b: JobKey) -> Bool {
        (a.job, a.arrayTask, a.hetComponent) < (b.job, b.arrayTask, b.hetComponent)
    }
}

/// One parsed JobID field.
public enum JobIDField: Equatable, Sendable {
    /// The allocation row of a job.
    case job(JobKey)
    /// A step row: `batch`, `extern`, `interactive`, or a step number (kept as text).
    case step(JobKey, StepKind)
    /// A pending array's placeholder such as `123_[4-9%2]`, which stands for tasks not yet started.
    case pendingArray(UInt64)

    public enum StepKind: Equatable, Sendable {
        case batch, extern, interactive, numbered(UInt32), other
    }
    /// `parse` on a raw buffer: a concrete entry point, so that callers in other modules (the
    /// audit's merge, once per row) run the specialised parser rather than the generic one
    /// through witness tables (13× slower on `bench/audit` when this was missing).
    public static func parse(_ text: UnsafeBufferPointer<UInt8>) -> JobIDField? {
        read(text)
    }


    /// Parses a JobID field; nil when it is not one. Allocation-free: it runs once per row.
    public static func parse<C: Collection<UInt8>>(_ text: C) -> JobIDField? { read(text) }

    @inline(__always)
    static func read<C: Collection<UInt8>>(_ text: C) -> JobIDField? {
        var i = text.startIndex
        guard let (job, afterJob) = readNumber(text, from: i, limit: UInt64.max) else { return nil }
        i = afterJob
        var key = JobKey(job: job)
        if i != text.endIndex && text[i] == UInt8(ascii: "_") {
            i = text.index(after: i)
            if i != text.endIndex && text[i] == UInt8(ascii: "[") {
                // A pending array range such as [4-9%2]: it must end with the bracket.
                guard let close = text[i...].firstIndex(of: UInt8(ascii: "]")),
                      text.index(after: close) == text.endIndex
                else { return nil }
                return .pendingArray(job)
            }
            guard let (task, after) = readNumber(text, from: i, limit: UInt64(JobKey.none) - 1) else { return nil }
            key.arrayTask = UInt32(task)
            i = after
        }
        if i != text.endIndex && text[i] == UInt8(ascii: "+") {
            guard let (component, after) = readNumber(text, from: text.index(after: i),
                                                       limit: UInt64(JobKey.none) - 1)
            else { return nil }
            key.hetComponent = UInt32(component)
            i = after
        }
        if i == text.endIndex { return .job(key) }
        guard text[i] == UInt8(ascii: ".") else { return nil }
        let name = text[text.index(after: i)...]
        if name.isEmpty { return nil }
        if matches(name, "batch") { return .step(key, .batch) }
        if matches(name, "extern") { return .step(key, .extern) }
        if matches(name, "interactive") { return .step(key, .interactive) }
        if let (number, after) = readNumber(name, from: name.startIndex, limit: UInt64(UInt32.max)),
           after == name.endIndex
        {
            return .step(key, .numbered(UInt32(number)))
        }
        return .step(key, .other)
    }

    /// True when `text` is `word` (this runs once per step row): `ByteText.equal` on the row's
    /// bytes, which the audit's buffers always are; any other collection is compared element-wise.
    @inline(__always)
    private static func matches<C: Collection<UInt8>>(_ text: C, _ word: StaticString) -> Bool {
        text.withContiguousStorageIfAvailable { ByteText.equal($0, word) }
            ?? word.withUTF8Buffer { text.elementsEqual($0) }
    }

    /// Reads at least one decimal digit from `from`; returns the value (≤ limit) and the index after it.
    @inline(__always)
    private static func readNumber<C: Collection<UInt8>>(_ text: C, from start: C.Index, limit: UInt64)
        -> (UInt64, C.Index)?
    {
        DecimalText.prefix(of: text, from: start, limit: limit).map { ($0.value, $0.end) }
    }
}
