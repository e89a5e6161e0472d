import Dispatch

/// Two pieces of work run at once, on two threads where there are two cores (the report's last
/// passes over the jobs: its quantiles and its recommendation). Each must touch only its own
/// state: values it owns (copies of a value share storage safely), and shared data it only reads.
enum BothAtOnce {
    /// Runs `first` and `second` at once and returns both results.
    static func run<A, B>(_ first: () -> A, _ second: () -> B) -> (A, B) {
        withoutActuallyEscaping(first) { first in
            withoutActuallyEscaping(second) { second in
                let work = Work(first: first, second: second)
                DispatchQueue.concurrentPerform(iterations: 2) { work.run($0) }
                return work.results
            }
        }
    }

    /// The two closures and their results; each result is written by one iteration only, and
    /// read after both ended (`concurrentPerform` returns when both did).
    private final class Work<A, B>: @unchecked Sendable {
        let first: () -> A
        let second: () -> B
        var a: A?
        var b: B?

        init(first: @escaping () -> A, second: @escaping () -> B) {
            self.first = first
            self.second = second
        }

        func run(_ i: Int) {
            if i == 0 { a = first() } else { b = second() }
        }

        var results: (A, B) {
            guard let a, let b else { preconditionFailure("concurrentPerform returned before both ran") }
            return (a, b)
        }
    }
}
