import QubeMem

/// `/proc/PID/statm`: the process's memory sizes in pages (size resident shared text lib data dt).
///
/// The kernel writes it from a handful of counters, about a sixth of the cost of `status`, which is
/// why the sampler reads it at every tick. It has no high-water mark: a reading is the RSS at that
/// instant only.
public struct ProcStatm: Sendable, Equatable {
    /// Total virtual size, pages. Zero when the process has no memory (a zombie, a kernel thread).
    public var sizePages: UInt64 = 0
    /// Resident pages: VmRSS in pages (anonymous + file-backed + shmem).
    public var residentPages: UInt64 = 0
    /// Resident file-backed and shmem pages (RssFile + RssShmem).
    public var sharedPages: UInt64 = 0

    public init(sizePages: UInt64 = 0, residentPages: UInt64 = 0, sharedPages: UInt64 = 0) {
        self.sizePages = sizePages; self.residentPages = residentPages; self.sharedPages = sharedPages
    }

    /// Whether the process has an address space (false for a zombie: the kernel writes zeros).
    public var hasMemory: Bool { sizePages > 0 }

    /// Parses the text of `/proc/PID/statm`: seven decimal fields separated by single spaces. The
    /// first three are kept; the line must hold at least those, all decimal.
    public static func parse(_ bytes: some Collection<UInt8>) -> ProcStatm? {
        Array(bytes).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// The same over a raw buffer (the sampler's, read in place at every tick).
    public static func parse(buffer b: UnsafeBufferPointer<UInt8>) -> ProcStatm? {
        var fields: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var i = 0
        let n = b.count
        for k in 0..<3 {
            while i < n, b[i] == 32 { i += 1 }
            guard let (value, end) = DecimalText.prefix(of: b, from: i) else { return nil }
            i = end
            guard i == n || b[i] == 32 || b[i] == 10 else { return nil }
            switch k {
            case 0: fields.0 = value
            case 1: fields.1 = value
            default: fields.2 = value
            }
        }
        return ProcStatm(sizePages: fields.0, residentPages: fields.1, sharedPages: fields.2)
    }
}

/// `/proc/PID/smaps_rollup`: the process's mappings summed, in bytes.
///
/// Keys are kept as the kernel writes them (`Rss`, `Pss`, `Pss_Anon`, `Anonymous`, ...), so a
/// kernel that adds a field needs no change here.
public struct SmapsRollup: Sendable, Equatable {
    /// Every `Key: N kB` line, in bytes, in file order.
    public var fields: [(key: String, bytes: UInt64)] = []

    public init(fields: [(key: String, bytes: UInt64)] = []) { self.fields = fields }

    public static func == (a: SmapsRollup, b: SmapsRollup) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.key == $1.key && $0.bytes == $1.bytes }
    }

    /// The value of one key in bytes, 0 when the kernel does not write it.
    public subscript(_ key: String) -> UInt64 {
        fields.first { $0.key == key }?.bytes ?? 0
    }

    public var rss: UInt64 { self["Rss"] }
    public var pss: UInt64 { self["Pss"] }

    /// Adds another process's rollup key by key (for a tree total).
    public mutating func add(_ other: SmapsRollup) {
        for field in other.fields {
            if let i = fields.firstIndex(where: { $0.key == field.key }) {
                fields[i].bytes = fields[i].bytes &+ field.bytes
            } else {
                fields.append(field)
            }
        }
    }

    /// Parses the text of `/proc/PID/smaps_rollup` (the first line is the `[rollup]` range).
    public static func parse(_ bytes: some Collection<UInt8>) -> SmapsRollup? {
        var rollup = SmapsRollup()
        var sawRange = false
        var ok = true
        forEachLine(bytes) { key, value in
            guard value.last(where: { $0 != 32 }) != nil else { return }
            if let v = parseKiB(value) {
                rollup.fields.append((key, v))
            } else if !sawRange, key.contains("-") {
                sawRange = true
            } else {
                ok = false
            }
        }
        return ok && !rollup.fields.isEmpty ? rollup : nil
    }
}
