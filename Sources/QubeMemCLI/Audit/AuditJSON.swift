import Foundation
import QubeMemSlurm
import QubeMemAudit

/// `qubemem audit --json`: schema `qubemem.audit/1`.
///
/// Sizes are bytes (integers), ratios are numbers, missing figures are null.
enum AuditJSON {
    static func number(_ v: Double?) -> String {
        guard let v else { return "null" }
        return AuditFormat.number(v)
    }

    static func render(_ r: AuditReport, source s: AuditSourceSummary) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("schema", "qubemem.audit/1")
        w.beginObject("input")
        w.field("origin", s.origin)
        w.field("rows", s.rows)
        w.field("malformed_rows", s.malformed)
        w.beginArray("malformed")
        for m in s.malformedRows {
            w.beginObject()
            w.field("line", m.line)
            w.field("reason", m.reason)
            w.endObject()
        }
        w.endArray()
        w.field("live_jobs_skipped", s.liveJobs)
        w.field("pending_array_rows_skipped", s.pendingArrayRows)
        w.field("jobs_without_job_row", s.orphanJobs)
        w.endObject()
        w.beginObject("counts")
        w.field("finished_jobs", r.finishedJobs)
        w.field("with_record", r.withRecord)
        w.field("recomputed", r.recomputed)
        w.field("without_prediction", r.withoutPrediction)
        w.field("unreadable_records", r.unreadableRecords)
        w.field("unpriced_comments", r.unpricedComments)
        w.endObject()
        w.beginArray("jobs")
        for e in r.entries {
            w.beginObject()
            w.field("id", e.id)
            w.field("name", e.name)
            w.field("user", e.user)
            w.field("account", e.account)
            w.field("partition", e.partition)
            w.field("state", e.state.rawValue)
            w.field("source", e.source.rawValue)
            w.field("action", e.action)
            w.field("model", e.model)
            w.field("path", e.path)
            w.field("predicted_bytes", e.predictedBytes)
            w.field("requested_bytes", e.requestedBytes)
            w.field("peak_bytes", e.peakBytes)
            w.field("peak_basis", e.peakBasis.rawValue)
            w.field("nodes", UInt64(e.nodes))
            w.field("elapsed_seconds", e.elapsedSeconds)
            w.field("slack", e.slack.map(formatDecimal4))
            w.field("peak_over_predicted", raw: number(e.measuredOverPredicted))
            w.field("requested_over_peak", raw: number(e.requestedOverMeasured))
            w.field("oom", e.oom)
            w.field("near_miss", e.nearMiss)
            w.field("wasted_bytes", e.wastedBytes)
            w.field("note", e.note)
            w.endObject()
        }
        w.endArray()
        w.beginArray("summary")
        for g in [r.overall] + r.byPath + r.byModel + r.byRanks {
            w.beginObject()
            w.field("group", g.name)
            w.field("jobs", g.jobs)
            w.beginObject("states")
            for (state, n) in g.byState.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                w.field(state.rawValue, n)
            }
            w.endObject()
            w.field("oom", g.oom)
            w.field("near_misses", g.nearMisses)
            w.field("no_data", g.noData)
            quantiles(&w, "peak_over_predicted", g.measuredOverPredicted)
            quantiles(&w, "requested_over_peak", g.requestedOverMeasured)
            w.field("wasted_gib", raw: number(g.wastedGiB))
            w.field("wasted_gib_hours", raw: number(g.wastedGiBHours))
            w.endObject()
        }
        w.endArray()
        let rec = r.recommendation
        w.beginObject("recommendation")
        w.field("target", raw: number(rec.target))
        w.field("eligible_jobs", rec.eligible)
        w.field("minimum_jobs", rec.minimumJobs)
        w.field("enough_jobs", rec.enoughJobs)
        w.field("slack", rec.slack.map(formatDecimal4))
        w.field("covered", rec.covered)
        w.field("requested_gib", raw: number(rec.requestedGiB))
        w.field("unused_gib_hours", raw: number(rec.wasteGiBHours))
        w.field("current_slack", formatDecimal4(rec.currentSlack))
        w.field("current_covered", rec.currentCovered)
        w.field("current_requested_gib", raw: number(rec.currentRequestedGiB))
        w.field("current_unused_gib_hours", raw: number(rec.currentWasteGiBHours))
        w.endObject()
        w.endObject()
        return w.text
    }

    static func quantiles(_ w: inout JSONWriter, _ key: String, _ q: Quantiles?) {
        guard let q else {
            w.field(key, raw: "null")
            return
        }
        w.beginObject(key)
        w.field("count", q.count)
        w.field("p50", raw: number(q.p50))
        w.field("p90", raw: number(q.p90))
        w.field("p99", raw: number(q.p99))
        w.field("max", raw: number(q.max))
        w.endObject()
    }
}

/// `qubemem audit --csv`: one row per job, sizes in bytes.
enum AuditCSV {
    static let columns = [
        "id", "name", "user", "account", "partition", "state", "source", "action", "model", "path",
        "predicted_bytes", "requested_bytes", "peak_bytes", "peak_basis", "nodes", "elapsed_seconds", "slack",
        "peak_over_predicted", "requested_over_peak", "oom", "near_miss", "note",
    ]

    static func field(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    static func render(_ r: AuditReport) -> String {
        var out = columns.joined(separator: ",") + "\n"
        for e in r.entries {
            let cells: [String] = [
                e.id, e.name, e.user, e.account, e.partition, e.state.rawValue, e.source.rawValue, e.action ?? "",
                e.model ?? "", e.path ?? "", e.predictedBytes.map { String($0) } ?? "",
                e.requestedBytes.map { String($0) } ?? "", e.peakBytes.map { String($0) } ?? "",
                e.peakBasis.rawValue, String(e.nodes), String(e.elapsedSeconds), e.slack.map(formatDecimal4) ?? "",
                e.measuredOverPredicted.map(AuditFormat.number) ?? "",
                e.requestedOverMeasured.map(AuditFormat.number) ?? "",
                e.oom ? "1" : "0", e.nearMiss ? "1" : "0", e.note ?? "",
            ]
            out += cells.map(field).joined(separator: ",") + "\n"
        }
        return out
    }
}
