
/// p50, p90, p99 and max by the nearest-rank method (the ⌈p·n⌉-th smallest value).
public struct Quantiles: Sendable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var max: Double

    public init?(_ values: [Double]) {
        var work = values
        self.init(selectingIn: &work)
    }

    /// The quantiles of `work`, which is reordered (no copy is made).
    init?(selectingIn work: inout [Double]) {
        guard !work.isEmpty else { return nil }
        let n = work.count
        func index(_ p: Double) -> Int { Swift.min(Swift.max(Int((p * Double(n)).rounded(.up)), 1), n) - 1 }
        // Selection instead of a full sort: each call leaves smaller values to the left of k, so
        // the next, higher rank only searches to the right of it.
        let k50 = index(0.50), k90 = index(0.90), k99 = index(0.99)
        Self.select(&work, k50, from: 0)
        Self.select(&work, k90, from: k50)
        Self.select(&work, k99, from: k90)
        count = n
        p50 = work[k50]
        p90 = work[k90]
        p99 = work[k99]
        max = work[k99...].max() ?? work[k99]
    }

    /// Puts the k-th smallest of `a[from...]` at index k, smaller ones before it (Hoare quickselect).
    static func select(_ a: inout [Double], _ k: Int, from: Int) {
        var lo = from
        var hi = a.count - 1
        while lo < hi {
            let pivot = a[lo + (hi - lo) / 2]
            var i = lo
            var j = hi
            while i <= j {
                while a[i] < pivot { i += 1 }
                while a[j] > pivot { j -= 1 }
                if i <= j {
                    a.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                hi = j
            } else if k >= i {
                lo = i
            } else {
                return
            }
        }
    }
}
