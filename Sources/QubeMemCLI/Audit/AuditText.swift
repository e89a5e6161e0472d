import Foundation
import QubeMemSlurm
import QubeMemAudit

/// The terminal report of `qubemem audit`: jobs, summary, recommendation.
enum AuditText {
    static func gib(_ bytes: UInt64?) -> String {
        guard let bytes else { return "-" }
        return AuditFormat.fixed(Double(bytes) / 1_073_741_824, 2)
    }

    static func ratio(_ value: Double?) -> String {
        guard let value else { return "-" }
        return AuditFormat.fixed(value, value >= 1000 ? 0 : 2)
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "-" : AuditFormat.fixed(100 * Double(part) / Double(whole), 1) + "%"
    }

    static func slack(_ tenThousandths: UInt64) -> String { formatDecimal4(tenThousandths) }

    /// Lines describing what was read and skipped.
    static func header(_ r: AuditReport, _ s: AuditSourceSummary) -> [String] {
        var lines: [String] = []
        var read = "qubemem audit: \(r.finishedJobs) finished job\(r.finishedJobs == 1 ? "" : "s") from \(s.origin) "
            + "(\(s.rows) row\(s.rows == 1 ? "" : "s"))"
        if s.liveJobs > 0 || s.pendingArrayRows > 0 {
            var parts: [String] = []
            if s.liveJobs > 0 { parts.append("\(s.liveJobs) pending/running job\(s.liveJobs == 1 ? "" : "s")") }
            if s.pendingArrayRows > 0 {
                parts.append("\(s.pendingArrayRows) array range\(s.pendingArrayRows == 1 ? "" : "s") of tasks not started (123_[4-9])")
            }
            read += "; skipped \(parts.joined(separator: " and ")) (not final until they end)"
        }
        lines.append(read)
        var sources = "predictions: \(r.withRecord) from the plugin's record, \(r.recomputed) recomputed "
            + "with the current model (marked *), \(r.withoutPrediction) without"
        if !r.settings.includeAll && r.withoutPrediction > 0 { sources += " (listed with --all)" }
        lines.append(sources)
        var problems: [String] = []
        if r.unreadableRecords > 0 { problems.append("\(r.unreadableRecords) unreadable AdminComment record(s)") }
        if r.unpricedComments > 0 { problems.append("\(r.unpricedComments) qube comment(s) that could not be priced") }
        if s.orphanJobs > 0 { problems.append("\(s.orphanJobs) job(s) with step rows but no job row (not audited)") }
        if s.malformed > 0 { problems.append("\(s.malformed) malformed row(s) dropped") }
        if !problems.isEmpty { lines.append("note: " + problems.joined(separator: "; ")) }
        return lines
    }

    /// The whole report.
    static func render(_ r: AuditReport, source: AuditSourceSummary, colour: Bool) -> String {
        var lines = header(r, source)
        lines.append("")
        lines.append(contentsOf: jobTable(r, colour: colour))
        lines.append("")
        lines.append(contentsOf: summaryTable(r))
        lines.append("")
        lines.append(contentsOf: recommendationLines(r))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The per-job table: one string holding the header and a line per job (built as UTF-8
    /// bytes, with widths counted in Unicode scalars, as names may be non-ASCII), then the notes.
    static func jobTable(_ r: AuditReport, colour: Bool) -> [String] {
        if r.entries.isEmpty { return ["No job to list."] }
        let head = ["JOB", "NAME", "USER", "STATE", "MODEL/PATH", "PRED GiB", "REQ GiB", "PEAK GiB",
                    "PEAK/PRED", "REQ/PEAK", "FLAGS"]
        let columns = head.count
        let right: [Bool] = [false, false, false, false, false, true, true, true, true, true, false]
        // Every cell's bytes in one buffer; `ends` holds where each cell stops.
        var cells: [UInt8] = []
        var ends: [Int] = []
        cells.reserveCapacity(r.entries.count * 96)
        ends.reserveCapacity((r.entries.count + 1) * columns)
        var widths = [Int](repeating: 0, count: columns)
        func close(_ column: Int) {
            let start = ends.last ?? 0
            var scalars = 0
            for i in start..<cells.count where cells[i] & 0xC0 != 0x80 { scalars += 1 }
            widths[column] = max(widths[column], scalars)
            ends.append(cells.count)
        }
        func text(_ s: String, _ column: Int) {
            cells.append(contentsOf: s.utf8)
            close(column)
        }
        func prefix(_ s: String, _ characters: Int, _ column: Int) {
            if s.utf8.count <= characters { text(s, column) } else { text(String(s.prefix(characters)), column) }
        }
        func gib(_ bytes: UInt64?, _ column: Int) {
            if let bytes { AuditFormat.appendFixed(Double(bytes) / 1_073_741_824, 2, to: &cells) } else { cells.append(0x2D) }
            close(column)
        }
        func ratio(_ value: Double?, _ column: Int) {
            if let value { AuditFormat.appendFixed(value, value >= 1000 ? 0 : 2, to: &cells) } else { cells.append(0x2D) }
            close(column)
        }
        for (i, h) in head.enumerated() { text(h, i) }
        for e in r.entries {
            text(e.id, 0)
            prefix(e.name, 16, 1)
            prefix(e.user, 12, 2)
            text(e.state.rawValue, 3)
            if let m = e.model, let p = e.path {
                cells.append(contentsOf: m.utf8)
                cells.append(UInt8(ascii: "/"))
                cells.append(contentsOf: p.utf8)
                if e.source == .recomputed { cells.append(UInt8(ascii: "*")) }
                close(4)
            } else {
                text("-", 4)
            }
            gib(e.predictedBytes, 5)
            gib(e.requestedBytes, 6)
            gib(e.peakBytes, 7)
            ratio(e.measuredOverPredicted, 8)
            ratio(e.requestedOverMeasured, 9)
            var flags: [StaticString] = []
            if e.oom { flags.append("OOM") }
            if e.nearMiss { flags.append("NEAR") }
            if e.peakBytes == nil { flags.append("NO-DATA") }
            if e.peakBasis != .singleTask { flags.append(e.peakBasis == .taskSum ? "TASK-SUM" : "NODE-BOUND") }
            for (k, flag) in flags.enumerated() {
                if k > 0 { cells.append(UInt8(ascii: ",")) }
                flag.withUTF8Buffer { cells.append(contentsOf: $0) }
            }
            close(10)
        }
        // Lay the rows out: left or right aligned, two spaces between columns, no trailing spaces.
        var out: [UInt8] = []
        out.reserveCapacity(cells.count + (r.entries.count + 1) * (widths.reduce(0, +) + 2 * columns + 12))
        let rowCount = ends.count / columns
        for row in 0..<rowCount {
            if row > 0 { out.append(0x0A) }
            let e: AuditEntry? = row > 0 && colour ? r.entries[row - 1] : nil
            let paint: [UInt8]? = e.map { $0.oom ? [0x1B, 0x5B, 0x33, 0x31, 0x6D] : $0.nearMiss ? [0x1B, 0x5B, 0x33, 0x33, 0x6D] : [] }
            if let paint { out.append(contentsOf: paint) }
            let lineStart = out.count
            for column in 0..<columns {
                let index = row * columns + column
                let start = index == 0 ? 0 : ends[index - 1]
                var scalars = 0
                for i in start..<ends[index] where cells[i] & 0xC0 != 0x80 { scalars += 1 }
                let pad = widths[column] - scalars
                if right[column] { out.append(contentsOf: repeatElement(0x20, count: pad)) }
                out.append(contentsOf: cells[start..<ends[index]])
                if column < columns - 1 {
                    if !right[column] { out.append(contentsOf: repeatElement(0x20, count: pad)) }
                    out.append(contentsOf: [0x20, 0x20])
                }
            }
            while out.count > lineStart, out.last == 0x20 { out.removeLast() }
            if let paint, !paint.isEmpty { out.append(contentsOf: [0x1B, 0x5B, 0x30, 0x6D]) }
        }
        var lines = [String(decoding: out, as: UTF8.self)]
        let notes = r.entries.filter { $0.note != nil }
        for e in notes.prefix(10) { lines.append("  \(e.id): \(e.note ?? "")") }
        if notes.count > 10 { lines.append("  … and \(notes.count - 10) more notes (see --json)") }
        return lines
    }

    static func summaryTable(_ r: AuditReport) -> [String] {
        let head = ["GROUP", "JOBS", "OOM", "NEAR", "NO-DATA", "PEAK/PRED p50", "p90", "p99", "max",
                    "REQ/PEAK p50", "p90", "p99", "max", "WASTE GiB", "GiB·h"]
        var rows: [[String]] = []
        var states: [String] = []
        for g in [r.overall] + r.byPath + r.byModel + r.byRanks {
            let q = g.measuredOverPredicted
            let w = g.requestedOverMeasured
            rows.append([g.name, String(g.jobs), String(g.oom), String(g.nearMisses), String(g.noData),
                         ratio(q?.p50), ratio(q?.p90), ratio(q?.p99), ratio(q?.max),
                         ratio(w?.p50), ratio(w?.p90), ratio(w?.p99), ratio(w?.max),
                         AuditFormat.fixed(g.wastedGiB, 1), AuditFormat.fixed(g.wastedGiBHours, 1)])
            states.append(g.byState.sorted { $0.key.rawValue < $1.key.rawValue }
                .map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))
        }
        var widths = head.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: widths[i] - c.count)
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        var out = ["Summary (ratios: nearest-rank quantiles; waste: requested − peak, × nodes, × hours for GiB·h)"]
        out.append(line(head))
        for row in rows { out.append(line(row)) }
        out.append("States:")
        for (row, text) in zip(rows, states) { out.append("  \(row[0]): \(text.isEmpty ? "-" : text)") }
        return out
    }

    static func recommendationLines(_ r: AuditReport) -> [String] {
        let rec = r.recommendation
        let targetText = String(format: "%g%%", rec.target * 100)
        var out = ["Recommendation (target: \(targetText) of the jobs that completed or ran out of memory, "
            + "with a prediction and a measured peak)"]
        guard let s = rec.slack else {
            out.append("  No such job: nothing to base a slack on.")
            return out
        }
        if !rec.enoughJobs {
            out.append("  Too few jobs for this to mean much: \(rec.eligible), and a \(targetText) figure needs at "
                + "least \(rec.minimumJobs). Indicative only.")
        }
        let oomJobs = r.entries.filter { $0.oom && $0.predictedBytes != nil && $0.peakBytes != nil }.count
        if oomJobs > 0 {
            out.append("  \(oomJobs) job\(oomJobs == 1 ? "" : "s") ran out of memory: sacct cannot say how much \(oomJobs == 1 ? "it" : "they") "
                + "needed, so \(oomJobs == 1 ? "it counts" : "they count") as covered once the slack lifts the request above the one "
                + "that killed \(oomJobs == 1 ? "it" : "them"). That is a lower bound: rerun \(oomJobs == 1 ? "it" : "them") under "
                + "`qubemem profile` to measure the real need.")
        }
        out.append("  slack \(slack(s)) covers \(rec.covered) of \(rec.eligible) (\(percent(rec.covered, rec.eligible))); "
            + String(format: "requests %.1f GiB in all, %.1f GiB·h unused", rec.requestedGiB, rec.wasteGiBHours))
        out.append("  slack \(slack(rec.currentSlack)) (current) covers \(rec.currentCovered) (\(percent(rec.currentCovered, rec.eligible))); "
            + String(format: "requests %.1f GiB in all, %.1f GiB·h unused", rec.currentRequestedGiB, rec.currentWasteGiBHours))
        if s > 1_000_000 {
            out.append("  A slack above 100 means the predictions themselves are wrong for these jobs; "
                + "look at the largest PEAK/PRED rows instead of raising the slack.")
        } else {
            out.append("  qubemem.conf:  slack = \(slack(s))")
        }
        return out
    }

    /// `--suggest-config`: the qubemem.conf lines alone.
    static func configLines(_ r: AuditReport) throws -> String {
        let rec = r.recommendation
        guard let s = rec.slack else {
            throw AuditError.noRecommendation("no job completed or ran out of memory with a prediction and a measured peak")
        }
        guard s <= 1_000_000 else {
            throw AuditError.noRecommendation("it would be \(slack(s)), above qubemem.conf's limit of 100: "
                + "the predictions are wrong for some jobs; see the report")
        }
        let share = String(format: "%g%%", rec.target * 100)
        var lines = ["# qubemem audit: slack covering \(share) of \(rec.eligible) jobs (\(rec.covered) covered); "
            + "was \(slack(rec.currentSlack)) (\(rec.currentCovered) covered)"]
        if !rec.enoughJobs {
            lines.append("# indicative only: \(rec.eligible) jobs, and this target needs at least \(rec.minimumJobs)")
        }
        lines.append("slack = \(slack(s))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The malformed rows for stderr: the first few with line numbers, then a count.
    static func malformedLines(_ a: SacctAccumulator) -> String {
        var out = ["qubemem audit: \(a.malformedCount) malformed row\(a.malformedCount == 1 ? "" : "s") dropped:"]
        for m in a.malformed { out.append("  \(m)") }
        let rest = a.malformedCount - a.malformed.count
        if rest > 0 { out.append("  … and \(rest) more") }
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
