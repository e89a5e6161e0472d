import Testing
import QubeMemTiming

/// A clock that advances by a fixed step every time it is read.
final class SteppingClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by d: Duration) -> Instant { Instant(offset: offset + d) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private var current = Instant(offset: .zero)
    let step: Duration
    init(step: Duration) { self.step = step }
    var now: Instant {
        defer { current = current.advanced(by: step) }
        return current
    }
    var minimumResolution: Duration { .nanoseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {}
}

@Suite struct TimingTests {
    @Test func timeSectionReturnsTheResultAndTheElapsedTime() {
        let clock = SteppingClock(step: .milliseconds(5))
        let (value, elapsed) = timeSection(clock: clock) { 6 * 7 }
        #expect(value == 42)
        #expect(elapsed == .milliseconds(5))
    }

    @Test func timeSectionOnTheContinuousClockIsNonNegative() {
        let (_, elapsed) = timeSection { (0..<1000).reduce(0, +) }
        #expect(elapsed >= .zero)
    }

    @Test func statisticsAccumulateCountTotalMeanMinMax() {
        var s = TimingStatistics(name: "parse")
        #expect(s.mean == nil && s.min == nil && s.max == nil)
        for ms in [30, 10, 20] { s.record(.milliseconds(ms)) }
        #expect(s.count == 3)
        #expect(s.total == .milliseconds(60))
        #expect(s.mean == .milliseconds(20))
        #expect(s.min == .milliseconds(10))
        #expect(s.max == .milliseconds(30))
        #expect(s.description.hasPrefix("parse: n=3"))
    }

    @Test func measureRecordsEachRun() {
        var s = TimingStatistics()
        for _ in 0..<4 { _ = s.measure { 1 } }
        #expect(s.count == 4)
        #expect(s.description.hasPrefix("timing: n=4"))
    }

    @Test func mergeCombinesTwoSeries() {
        var a = TimingStatistics(), b = TimingStatistics()
        a.record(.seconds(1)); b.record(.seconds(3)); b.record(.seconds(2))
        a.merge(b)
        #expect(a.count == 3 && a.total == .seconds(6) && a.min == .seconds(1) && a.max == .seconds(3))
        a.merge(TimingStatistics())
        #expect(a.count == 3)
    }

    @Test func hugeTotalsSaturateInsteadOfTrapping() {
        var s = TimingStatistics()
        let huge = Duration(secondsComponent: .max - 1, attosecondsComponent: 900_000_000_000_000_000)
        s.record(huge)
        s.record(huge)
        #expect(s.total == Duration(secondsComponent: .max, attosecondsComponent: 0))
        #expect(s.count == 2)
    }

    @Test func attosecondCarryIsExact() {
        var s = TimingStatistics()
        s.record(Duration(secondsComponent: 1, attosecondsComponent: 600_000_000_000_000_000))
        s.record(Duration(secondsComponent: 2, attosecondsComponent: 700_000_000_000_000_000))
        #expect(s.total == Duration(secondsComponent: 4, attosecondsComponent: 300_000_000_000_000_000))
    }
}
