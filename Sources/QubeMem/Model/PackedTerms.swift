/// The terms of one budget in a single heap block, written once when the budget is built and
/// never changed after (a budget that gains a term gets a new block).
///
/// A `ManagedBuffer` rather than an `Array`: creating an array of a value type from a generic
/// context looks its storage type up at run time (about 370 instructions, more than the whole
/// budget arithmetic); a managed buffer's metadata is cached. Elements are trivial values, so
/// nothing needs deinitialising.
///
/// `@unchecked Sendable`: the block is written only inside `init`, before any other reference to it
/// exists, and only read afterwards, so sharing it across threads is safe.
struct PackedTerms: @unchecked Sendable, Equatable {
    /// Header: the number of initialised entries.
    private let buffer: ManagedBuffer<Int, Budget.Entry>

    /// The number of entries.
    var count: Int { buffer.header }

    /// Builds the block: `fill` writes at most `capacity` entries through the pointer and returns
    /// how many it wrote (clamped to `capacity`).
    init(capacity: Int, _ fill: (UnsafeMutablePointer<Budget.Entry>, Int) -> Int) {
        buffer = ManagedBuffer<Int, Budget.Entry>.create(minimumCapacity: capacity) { _ in 0 }
        buffer.withUnsafeMutablePointers { header, elements in
            header.pointee = min(max(fill(elements, capacity), 0), capacity)
        }
    }

    /// The entry at `index`, or `nil` outside `0..<count`.
    subscript(_ index: Int) -> Budget.Entry? {
        guard index >= 0, index < count else { return nil }
        return buffer.withUnsafeMutablePointerToElements { $0[index] }
    }

    /// The entries as an array.
    var array: [Budget.Entry] {
        buffer.withUnsafeMutablePointers { header, elements in
            Array(UnsafeBufferPointer(start: elements, count: header.pointee))
        }
    }

    static func == (lhs: PackedTerms, rhs: PackedTerms) -> Bool {
        lhs.buffer === rhs.buffer || lhs.array == rhs.array
    }
}
