import Foundation

/// Number formats of the profile and sweep reports.
enum ProfileFormat {
    /// A size with the unit that reads best: "812.4 MiB", "6.77 GiB", "0 B".
    static func size(_ bytes: UInt64) -> String {
        let b = Double(bytes)
        if bytes == 0 { return "0 B" }
        if b >= Double(1 << 30) { return String(format: "%.2f GiB", b / Double(1 << 30)) }
        if b >= Double(1 << 20) { return String(format: "%.1f MiB", b / Double(1 << 20)) }
        return String(format: "%.0f KiB", b / 1024)
    }

    /// A signed difference: "+1.23 GiB" / "-4.0 MiB".
    static func signedSize(_ a: UInt64, minus b: UInt64) -> String {
        a >= b ? "+" + size(a - b) : "-" + size(b - a)
    }

    static func seconds(_ s: Double) -> String {
        s < 10 ? String(format: "%.3f s", s) : String(format: "%.1f s", s)
    }

    static func ratio(_ measured: UInt64, _ predicted: UInt64) -> String {
        predicted == 0 ? "-" : String(format: "%.2f", Double(measured) / Double(predicted))
    }

    /// A JSON number for a double (fixed 6 decimals, no exponent).
    static func json(_ d: Double) -> String {
        d.isFinite ? String(format: "%.6f", d) : "null"
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let n = s.count
        guard n < width else { return s }
        let fill = String(repeating: " ", count: width - n)
        return right ? fill + s : s + fill
    }
}

/// The compact terminal timeline: one block character per time bucket, the tallest interval peak
/// in the bucket, scaled to the run's peak.
enum Sparkline {
    static let levels: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    static func render(samples: [(time: Double, bytes: UInt64)], width: Int = 60) -> String {
        guard let last = samples.last, width > 0 else { return "" }
        let top = samples.map(\.bytes).max() ?? 0
        let span = max(last.time, 1e-9)
        let n = min(width, max(samples.count, 1))
        var buckets = [UInt64?](repeating: nil, count: n)
        for s in samples {
            let i = min(n - 1, Int(s.time / span * Double(n)))
            buckets[i] = max(buckets[i] ?? 0, s.bytes)
        }
        // Empty buckets (fewer samples than columns) repeat the previous level.
        var out = ""
        var previous: UInt64 = 0
        for b in buckets {
            let v = b ?? previous
            previous = v
            let level = top == 0 ? 0 : min(levels.count - 1, Int(Double(v) / Double(top) * Double(levels.count - 1) + 0.5))
            out.append(levels[level])
        }
        return out
    }
}
