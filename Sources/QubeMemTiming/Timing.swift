/// Timing utilities for qubemem's own code: time a section, and accumulate statistics over
/// repeated runs. Standard library only (`ContinuousClock`, `Duration`); no global state, no
/// output, no traps: sums saturate instead of overflowing.

/// Runs `body` once and returns its result with the time it took on `clock`.
///
/// - Parameters:
///   - clock: the clock to read; `ContinuousClock()` by default (monotonic, counts sleep).
///   - body: the section to time.
/// - Returns: the body's result and the elapsed `Duration`.
/// - Throws: whatever `body` throws.
public func timeSection<C: Clock, T>(
    clock: C, _ body: () throws -> T
) rethrows -> (result: T, elapsed: C.Duration) {
    let start = clock.now
    let result = try body()
    return (result, start.duration(to: clock.now))
}

/// `timeSection` on the continuous clock.
public func timeSection<T>(_ body: () throws -> T) rethrows -> (result: T, elapsed: Duration) {
    try timeSection(clock: ContinuousClock(), body)
}

/// Count, total, mean, min and max of a series of durations.
public struct TimingStatistics: Sendable, Equatable, CustomStringConvertible {
    /// What is being timed, for the description.
    public var name: String
    /// Number of recorded durations.
    public private(set) var count: Int = 0
    /// Sum of the recorded durations (saturating at `Duration`'s range).
    public private(set) var total: Duration = .zero
    /// Shortest recorded duration; nil before the first.
    public private(set) var min: Duration?
    /// Longest recorded duration; nil before the first.
    public private(set) var max: Duration?

    public init(name: String = "") { self.name = name }

    /// The mean duration; nil before the first.
    public var mean: Duration? {
        count > 0 ? total / count : nil
    }

    /// Adds one duration.
    public mutating func record(_ d: Duration) {
        let (c, o) = count.addingReportingOverflow(1)
        guard !o else { return }
        count = c
        total = Self.saturatingAdd(total, d)
        min = Swift.min(min ?? d, d)
        max = Swift.max(max ?? d, d)
    }

    /// Times `body` on the continuous clock, records the duration and returns the body's result.
    public mutating func measure<T>(_ body: () throws -> T) rethrows -> T {
        let (result, elapsed) = try timeSection(body)
        record(elapsed)
        return result
    }

    /// Adds every duration recorded in `other`.
    public mutating func merge(_ other: TimingStatistics) {
        guard other.count > 0, let omin = other.min, let omax = other.max else { return }
        let (c, o) = count.addingReportingOverflow(other.count)
        guard !o else { return }
        count = c
        total = Self.saturatingAdd(total, other.total)
        min = Swift.min(min ?? omin, omin)
        max = Swift.max(max ?? omax, omax)
    }

    public var description: String {
        guard let mean, let min, let max else { return "\(name.isEmpty ? "timing" : name): no runs" }
        return "\(name.isEmpty ? "timing" : name): n=\(count) total=\(total) mean=\(mean) min=\(min) max=\(max)"
    }

    /// a + b, clamped to the largest or smallest `Duration` instead of trapping.
    static func saturatingAdd(_ a: Duration, _ b: Duration) -> Duration {
        let (sa, aa) = a.components
        let (sb, ab) = b.components
        let (s, o) = sa.addingReportingOverflow(sb)
        guard !o else { return sa > 0 ? Duration(secondsComponent: .max, attosecondsComponent: 0) : Duration(secondsComponent: .min, attosecondsComponent: 0) }
        // Each attosecond part is below 10^18 in magnitude: their sum fits in Int64.
        let atto = aa + ab
        let carry = atto / 1_000_000_000_000_000_000
        let (s2, o2) = s.addingReportingOverflow(carry)
        guard !o2 else { return s > 0 ? Duration(secondsComponent: .max, attosecondsComponent: 0) : Duration(secondsComponent: .min, attosecondsComponent: 0) }
        return Duration(secondsComponent: s2, attosecondsComponent: atto - carry * 1_000_000_000_000_000_000)
    }
}
