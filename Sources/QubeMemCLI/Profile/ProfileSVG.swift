import Foundation
import QubeMemSystem

/// The timeline as a standalone SVG: Σ RSS at each sample, the interval peak bound above it, PSS
/// where read, the run's peak marked, and one band per stage (nested stages on lower rows).
enum ProfileSVG {
    static func render(_ r: ProfileResult, title: String? = nil) -> String {
        let width = 900.0, height = 360.0
        let left = 70.0, right = 20.0, top = 30.0
        let stageRows = (r.stages.map(\.depth).max() ?? -1) + 1
        let bandHeight = 16.0
        let bottom = 52.0 + Double(stageRows) * bandHeight
        let plotW = width - left - right
        let plotH = height - top - bottom
        let tMax = max(r.elapsedSeconds, r.samples.last?.time ?? 0, 1e-3)
        let yMax = max(Double(r.peakBytes), 1) * 1.08
        func x(_ t: Double) -> Double { left + t / tMax * plotW }
        func y(_ b: UInt64) -> Double { top + plotH - Double(b) / yMax * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left))" y="18" font-size="13">\(esc(String((title ?? r.command.joined(separator: " ")).prefix(110))))</text>\n
            """
        // Stage bands behind the curves, and their labels below the axis.
        let palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"]
        for (i, s) in r.stages.enumerated() {
            let x0 = x(s.enter), x1 = x(s.exit ?? tMax)
            let color = palette[i % palette.count]
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(max(x1 - x0, 0.5)))\" height=\"\(f(plotH))\" fill=\"\(color)\" fill-opacity=\"\(s.depth == 0 ? "0.10" : "0.07")\"><title>\(esc(s.name)): peak \(esc(ProfileFormat.size(s.peakBytes)))</title></rect>\n"
            let by = top + plotH + 22 + Double(s.depth) * bandHeight
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(by))\" width=\"\(f(max(x1 - x0, 0.5)))\" height=\"\(f(bandHeight - 3))\" fill=\"\(color)\" fill-opacity=\"0.6\"/>\n"
            if x1 - x0 > 30 {
                svg += "<text x=\"\(f(x0 + 2))\" y=\"\(f(by + bandHeight - 6))\" font-size=\"9\">\(esc(s.name))</text>\n"
            }
        }
        // Axes and grid.
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top + plotH))\" x2=\"\(f(left + plotW))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + plotH))\" stroke=\"black\"/>\n"
        for k in 0...4 {
            let b = UInt64(yMax / 1.08 * Double(k) / 4)
            let yy = y(b)
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(yy))\" x2=\"\(f(left + plotW))\" y2=\"\(f(yy))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(yy + 4))\" text-anchor=\"end\">\(esc(ProfileFormat.size(b)))</text>\n"
            let t = tMax * Double(k) / 4
            svg += "<text x=\"\(f(x(t)))\" y=\"\(f(top + plotH + 14))\" text-anchor=\"middle\">\(esc(ProfileFormat.seconds(t)))</text>\n"
        }
        // Curves.
        func polyline(_ points: [(Double, UInt64)], _ color: String, _ width: String, dash: String? = nil) -> String {
            guard !points.isEmpty else { return "" }
            let p = points.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ")
            return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\"\(dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") points=\"\(p)\"/>\n"
        }
        svg += polyline(r.samples.map { ($0.time, $0.intervalPeakBytes) }, "#e15759", "1", dash: "3,2")
        svg += polyline(r.samples.map { ($0.time, $0.rssBytes) }, "#1f3b73", "1.5")
        svg += polyline(r.samples.compactMap { s in s.pssBytes.map { (s.time, $0) } }, "#59a14f", "1", dash: "1,2")
        svg += "<circle cx=\"\(f(x(r.peakTime)))\" cy=\"\(f(y(r.peakBytes)))\" r=\"3\" fill=\"#e15759\"/>\n"
        svg += "<text x=\"\(f(min(x(r.peakTime) + 5, width - 120)))\" y=\"\(f(y(r.peakBytes) - 4))\">peak \(esc(ProfileFormat.size(r.peakBytes)))</text>\n"
        // Legend.
        let lx = width - right - 250
        svg += "<text x=\"\(f(lx))\" y=\"\(f(height - 6))\"><tspan fill=\"#1f3b73\">━ RSS (tree)</tspan>  <tspan fill=\"#e15759\">┅ interval peak</tspan>  <tspan fill=\"#59a14f\">┈ PSS</tspan></text>\n"
        svg += "</svg>\n"
        return svg
    }
}
