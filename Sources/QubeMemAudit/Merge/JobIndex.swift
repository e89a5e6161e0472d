import QubeMemSlurm

/// The accumulator's map from job key to slot in its job table: open addressing with linear probing.
///
/// Each cell holds a 32-bit hash of the key and the slot number, so probing reads only the table
/// (8 bytes a cell, at most half full: 16 bytes or less per job, against about 50 for a
/// `[JobKey: Int]`). The hash keeps job ids in order (`job + task × c₁ + component × c₂`, modulo
/// 2³²): sacct lists jobs by id, so consecutive jobs land in consecutive cells and the table is read
/// and written almost sequentially. Should ids ever cluster (a probe longer than `longProbe`), the
/// table switches to a scrambled position and is rebuilt, which needs only the stored hashes.
struct JobIndex: Sendable {
    /// `hash << 32 | (slot + 1)` per cell, 0 for empty; the count is a power of two. (32 bits of
    /// slot suffice: 2³² jobs would take a terabyte of job table first.)
    private var cells: [UInt64] = []
    private var count = 0
    private var scrambled = false

    static let longProbe = 64

    @inline(__always)
    static func hash(_ key: JobKey) -> UInt32 {
        UInt32(truncatingIfNeeded: key.job ^ (key.job >> 32))
            &+ key.arrayTask &* 0x9E37_79B1 &+ key.hetComponent &* 0x85EB_CA77
    }

    @inline(__always)
    private func home(_ hash: UInt32, _ mask: Int) -> Int {
        guard scrambled else { return Int(hash) & mask }
        return Int(truncatingIfNeeded: (UInt64(hash) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The slot of `key`, or -1; `keyAt` gives the key of the job in a slot.
    @inline(__always)
    mutating func slot(of key: JobKey, keyAt: (Int) -> JobKey) -> Int {
        if cells.isEmpty { return -1 }
        let h = Self.hash(key)
        let (slot, probes) = cells.withUnsafeBufferPointer { c -> (Int, Int) in
            let mask = c.count &- 1
            var i = home(h, mask)
            var probes = 0
            while true {
                let cell = c[i]
                if cell == 0 { return (-1, probes) }
                if UInt32(truncatingIfNeeded: cell >> 32) == h {
                    let s = Int(truncatingIfNeeded: cell & 0xFFFF_FFFF) &- 1
                    if keyAt(s) == key { return (s, probes) }
                }
                i = (i &+ 1) & mask
                probes &+= 1
            }
        }
        if probes > Self.longProbe && !scrambled { rebuild(cells.count, scrambled: true) }
        return slot
    }

    /// Adds a slot whose key is not in the index yet.
    mutating func insert(_ slot: Int, key: JobKey) {
        if (count &+ 1) &* 2 > cells.count { rebuild(max(1024, cells.count &* 2), scrambled: scrambled) }
        let h = Self.hash(key)
        let mask = cells.count &- 1
        var i = home(h, mask)
        while cells[i] != 0 { i = (i &+ 1) & mask }
        cells[i] = UInt64(h) << 32 | UInt64(truncatingIfNeeded: slot &+ 1)
        count &+= 1
    }

    private mutating func rebuild(_ size: Int, scrambled: Bool) {
        self.scrambled = scrambled
        var bigger = [UInt64](repeating: 0, count: size)
        let mask = size &- 1
        for cell in cells where cell != 0 {
            var i = home(UInt32(truncatingIfNeeded: cell >> 32), mask)
            while bigger[i] != 0 { i = (i &+ 1) & mask }
            bigger[i] = cell
        }
        cells = bigger
    }
}
