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

    /// The id as sacct prints it: `123`, `123_4`, `123+0`.
    public var description: String {
        var text = String(job)
        if arrayTask != JobKey.none { text += "_" + String(arrayTask) }
        if hetComponent != JobKey.none { text += "+" + String(hetComponent) }
        return text
    }

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

    /// Parses a JobID field; nil when it is not one.
    public static func parse(_ text: some Collection<UInt8>) -> JobIDField? {
        var iterator = text.makeIterator()
        var job: UInt64 = 0
        var digits = 0
        var next = iterator.next()
        while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (m, o1) = job.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            job = s
            digits += 1
            next = iterator.next()
        }
        guard digits > 0 else { return nil }
        var key = JobKey(job: job)
        if next == UInt8(ascii: "_") {
            next = iterator.next()
            if next == UInt8(ascii: "[") {
                // A pending array range: the rest must close the bracket.
                var closed = false
                while let byte = iterator.next() {
                    if closed { return nil }
                    if byte == UInt8(ascii: "]") { closed = true }
                }
                return closed ? .pendingArray(job) : nil
            }
            guard let (task, after) = readUInt32(first: next, &iterator) else { return nil }
            key.arrayTask = task
            next = after
        }
        if next == UInt8(ascii: "+") {
            guard let (component, after) = readUInt32(first: iterator.next(), &iterator) else { return nil }
            key.hetComponent = component
            next = after
        }
        guard let separator = next else { return .job(key) }
        guard separator == UInt8(ascii: ".") else { return nil }
        var name: [UInt8] = []
        while let byte = iterator.next() {
            if name.count > 32 { return nil }
            name.append(byte)
        }
        if name.isEmpty { return nil }
        if name.elementsEqual("batch".utf8) { return .step(key, .batch) }
        if name.elementsEqual("extern".utf8) { return .step(key, .extern) }
        if name.elementsEqual("interactive".utf8) { return .step(key, .interactive) }
        do {
            var number: UInt32 = 0
            for byte in name {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return .step(key, .other) }
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt32(byte &- UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                number = s
            }
            return .step(key, .numbered(number))
        }
    }

    /// Reads decimal digits starting with `first`; returns the number and the byte after it.
    private static func readUInt32<I: IteratorProtocol<UInt8>>(
        first: UInt8?, _ iterator: inout I
    ) -> (UInt32, UInt8?)? {
        var value: UInt32 = 0
        var digits = 0
        var next = first
        while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt32(byte &- UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = s
            digits += 1
            next = iterator.next()
        }
        guard digits > 0, value != JobKey.none else { return nil }
        return (value, next)
    }
}
