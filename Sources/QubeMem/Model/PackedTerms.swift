/// The terms of one budget, stored inline: a fixed number of slots inside the value itself.
///
/// Inline rather than on the heap: a budget is then a plain value, built and copied without an
/// allocation, a reference count or a type-metadata lookup. That matters inside slurmctld, where
/// each job_submit call runs with cold caches and every page and runtime function it touches costs
/// a miss. Entries are trivial values; slots past `count` are unused.
struct PackedTerms: Sendable, Equatable {
    /// Slots: more than any model writes (the largest budget, harmonic with the measured term, has
    /// 21; `InlineTermStorageTests` checks every model and path). 448 bytes per budget.
    static let capacity = 28
    private var slots: InlineArray<28, Budget.Entry>
    /// The number of entries.
    private(set) var count: Int

    /// Builds the entries: `fill` writes at most `capacity` entries through the pointer and
    /// returns how many it wrote (clamped to `capacity`).
    init(capacity: Int, _ fill: (UnsafeMutablePointer<Budget.Entry>, Int) -> Int) {
        slots = InlineArray(repeating: Budget.Entry(name: .covT, bytes: 0, stage: .covarianceSetup, transient: false))
        let room = min(max(capacity, 0), Self.capacity)
        var written = 0
        var span = slots.mutableSpan
        span.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            written = fill(base, min(room, buffer.count))
        }
        count = min(max(written, 0), room)
    }

    /// The entry at `index`, or `nil` outside `0..<count`.
    subscript(_ index: Int) -> Budget.Entry? {
        guard index >= 0, index < count else { return nil }
        return slots[index]
    }

    /// The entries as an array.
    var array: [Budget.Entry] {
        (0..<count).map { slots[$0] }
    }

    static func == (lhs: PackedTerms, rhs: PackedTerms) -> Bool {
        lhs.count == rhs.count && (0..<lhs.count).allSatisfy { lhs.slots[$0] == rhs.slots[$0] }
    }
}
