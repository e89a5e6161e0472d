import Foundation
import QubeMemSlurm
import QubeMemAudit

/// `qubemem audit --svg FILE`: a predicted-vs-measured scatter (with y = x and the current slack)
/// and a histogram of measured/predicted, written by hand (no dependency).
enum AuditSVG {
    static let width = 1010.0
    static let height = 470.0
    static let panel = (w: 420.0, h: 330.0)
    static let left = (x: 70.0, y: 50.0)
    static let right = (x: 550.0, y: 50.0)

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A round axis maximum at or above `v` (1, 2, 5 × 10^k).
    static func niceCeiling(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 2.0, 5.0, 10.0] where m * p >= v { return m * p }
        return 10 * p
    }

    static func render(_ r: AuditReport) -> String {
        // Points carry the entry's index, not a copy of it (an entry is 232 bytes; an audit may list millions).
        let points = r.entries.indices.compactMap { i -> (x: Double, y: Double, i: Int)? in
            let e = r.entries[i]
            guard let p = e.predictedBytes, let m = e.peakBytes else { return nil }
            return (Double(p) / 1_073_741_824, Double(m) / 1_073_741_824, i)
        }
        let slack = Double(r.recommendation.currentSlack) / 10_000
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left.x))" y="24" font-size="15">qubemem audit: \(points.count) jobs with a prediction \
            and a measured peak</text>

            """
        s += scatter(points, r.entries, slack: slack, recommended: r.recommendation.slack.map { Double($0) / 10_000 })
        s += histogram(points.map { $0.y / $0.x })
        s += "</svg>\n"
        return s
    }

    static func scatter(_ points: [(x: Double, y: Double, i: Int)], _ entries: AuditEntries, slack: Double,
                        recommended: Double?) -> String {
        let (x0, y0) = left
        let maxValue = niceCeiling(max(points.map { max($0.x * slack, $0.y) }.max() ?? 1, 0.001) * 1.05)
        func px(_ v: Double) -> Double { x0 + v / maxValue * panel.w }
        func py(_ v: Double) -> Double { y0 + panel.h - v / maxValue * panel.h }
        var s = "<g id=\"scatter\">\n"
        s += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(panel.w))\" height=\"\(f(panel.h))\" fill=\"none\" stroke=\"#444\"/>\n"
        for i in 0...5 {
            let v = maxValue * Double(i) / 5
            s += "<line x1=\"\(f(px(v)))\" y1=\"\(f(y0 + panel.h))\" x2=\"\(f(px(v)))\" y2=\"\(f(y0 + panel.h + 4))\" stroke=\"#444\"/>"
            s += "<text x=\"\(f(px(v)))\" y=\"\(f(y0 + panel.h + 17))\" text-anchor=\"middle\">\(String(format: "%g", v))</text>\n"
            s += "<line x1=\"\(f(x0 - 4))\" y1=\"\(f(py(v)))\" x2=\"\(f(x0))\" y2=\"\(f(py(v)))\" stroke=\"#444\"/>"
            s += "<text x=\"\(f(x0 - 7))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(String(format: "%g", v))</text>\n"
        }
        s += "<text x=\"\(f(x0 + panel.w / 2))\" y=\"\(f(y0 + panel.h + 36))\" text-anchor=\"middle\">predicted total (GiB)</text>\n"
        s += "<text transform=\"translate(\(f(x0 - 48)) \(f(y0 + panel.h / 2))) rotate(-90)\" text-anchor=\"middle\">measured peak per node (GiB)</text>\n"
        // y = x, and y = slack·x (what the request allowed): points above that line were short of memory.
        s += "<line id=\"identity\" x1=\"\(f(px(0)))\" y1=\"\(f(py(0)))\" x2=\"\(f(px(maxValue)))\" y2=\"\(f(py(maxValue)))\" stroke=\"#888\"/>\n"
        s += slackLine(slack, maxValue, px, py, id: "current-slack", colour: "#d62728", label: "slack \(formatDecimal4(UInt64((slack * 10_000).rounded())))")
        if let recommended, recommended != slack, recommended <= 100 {
            s += slackLine(recommended, maxValue, px, py, id: "recommended-slack", colour: "#2ca02c",
                           label: "recommended \(formatDecimal4(UInt64((recommended * 10_000).rounded())))")
        }
        for p in points {
            let e = entries[p.i]
            let colour = e.oom ? "#d62728" : (e.nearMiss ? "#ff7f0e" : "#1f77b4")
            let fill = e.source == .recomputed ? "none" : colour
            s += "<circle cx=\"\(f(px(min(p.x, maxValue))))\" cy=\"\(f(py(min(p.y, maxValue))))\" r=\"3.5\" "
                + "fill=\"\(fill)\" stroke=\"\(colour)\"><title>\(escape(e.id)) \(escape(e.name)): predicted "
                + "\(String(format: "%.2f", p.x)) GiB, peak \(String(format: "%.2f", p.y)) GiB</title></circle>\n"
        }
        // The legend sits under the panels, so that it never covers points or lines.
        let current = formatDecimal4(UInt64((slack * 10_000).rounded()))
        var legend = "<tspan fill=\"#888\">grey: y = x</tspan> · <tspan fill=\"#d62728\">red dashed: current slack \(current)</tspan>"
        if let recommended, recommended != slack, recommended <= 100 {
            legend += " · <tspan fill=\"#2ca02c\">green dashed: recommended slack \(formatDecimal4(UInt64((recommended * 10_000).rounded())))</tspan>"
        }
        legend += " · points: <tspan fill=\"#1f77b4\">job</tspan>, <tspan fill=\"#d62728\">OOM</tspan>, "
            + "<tspan fill=\"#ff7f0e\">near miss</tspan>, hollow: recomputed"
        s += "<text x=\"\(f(x0 - 48))\" y=\"\(f(y0 + panel.h + 62))\" fill=\"#555\">\(legend)</text>\n"
        s += "</g>\n"
        return s
    }

    static func slackLine(
        _ slack: Double, _ maxValue: Double, _ px: (Double) -> Double, _ py: (Double) -> Double,
        id: String, colour: String, label: String
    ) -> String {
        let xEnd = min(maxValue, maxValue / max(slack, 1e-9))
        return "<line id=\"\(id)\" x1=\"\(f(px(0)))\" y1=\"\(f(py(0)))\" x2=\"\(f(px(xEnd)))\" y2=\"\(f(py(xEnd * slack)))\" "
            + "stroke=\"\(colour)\" stroke-dasharray=\"6 4\"><title>\(escape(label))</title></line>\n"
    }

    static func histogram(_ ratios: [Double]) -> String {
        let (x0, y0) = right
        var s = "<g id=\"histogram\">\n"
        s += "<rect x=\"\(f(x0))\" y=\"\(f(y0))\" width=\"\(f(panel.w))\" height=\"\(f(panel.h))\" fill=\"none\" stroke=\"#444\"/>\n"
        s += "<text x=\"\(f(x0 + panel.w / 2))\" y=\"\(f(y0 + panel.h + 36))\" text-anchor=\"middle\">measured / predicted</text>\n"
        guard let lo = ratios.min(), let hi = ratios.max() else {
            s += "<text x=\"\(f(x0 + panel.w / 2))\" y=\"\(f(y0 + panel.h / 2))\" text-anchor=\"middle\">no data</text>\n</g>\n"
            return s
        }
        // 20 bins over [lo, hi], both rounded out to 0.05; values beyond 3 × the median go in the last bin.
        let sorted = ratios.sorted()
        let median = sorted[(sorted.count - 1) / 2]
        let top = min(hi, max(median * 3, lo + 0.05))
        let start = (lo * 20).rounded(.down) / 20
        let end = max((top * 20).rounded(.up) / 20, start + 0.05)
        let bins = 20
        let width = (end - start) / Double(bins)
        var counts = [Int](repeating: 0, count: bins)
        for v in ratios {
            let i = min(max(Int((v - start) / width), 0), bins - 1)
            counts[i] += 1
        }
        let peak = max(counts.max() ?? 1, 1)
        let barW = panel.w / Double(bins)
        for (i, c) in counts.enumerated() where c > 0 {
            let h = Double(c) / Double(peak) * (panel.h - 20)
            let lowEdge = start + Double(i) * width
            s += "<rect class=\"bar\" x=\"\(f(x0 + Double(i) * barW + 1))\" y=\"\(f(y0 + panel.h - h))\" width=\"\(f(barW - 2))\" "
                + "height=\"\(f(h))\" fill=\"#1f77b4\"><title>\(String(format: "%.3f–%.3f", lowEdge, lowEdge + width)): \(c) "
                + "job\(c == 1 ? "" : "s")</title></rect>\n"
        }
        for i in stride(from: 0, through: bins, by: 5) {
            let v = start + Double(i) * width
            let x = x0 + Double(i) * barW
            s += "<text x=\"\(f(x))\" y=\"\(f(y0 + panel.h + 17))\" text-anchor=\"middle\">\(String(format: "%.2f", v))</text>\n"
        }
        if start <= 1, end >= 1 {
            let x = x0 + (1 - start) / width * barW
            s += "<line x1=\"\(f(x))\" y1=\"\(f(y0))\" x2=\"\(f(x))\" y2=\"\(f(y0 + panel.h))\" stroke=\"#888\" stroke-dasharray=\"3 3\"/>\n"
        }
        s += "<text x=\"\(f(x0 + panel.w - 6))\" y=\"\(f(y0 + 14))\" text-anchor=\"end\" fill=\"#555\">tallest bar: \(peak) jobs</text>\n"
        s += "</g>\n"
        return s
    }
}
