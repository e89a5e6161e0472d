import QubeMemSlurm
import QubeMemAudit

/// `qubemem audit --prometheus FILE`: the report's figures in Prometheus' text exposition format
/// (version 0.0.4), for node_exporter's textfile collector.
///
/// Every figure is a gauge over the audited window. Series of a summary group carry `group`
/// (`all`, `path`, `model`, `ranks`) and, except for `all`, the group's value under a label of that
/// name (`{group="path",path="harmonic"}`), so `sum by (path) (...{group="path"})` adds up exactly
/// the audited jobs. Sizes are bytes and times seconds (Prometheus' base units).
enum AuditPrometheus {
    /// The metric names and their help, in the order they are written.
    static let metrics: [(name: String, help: String)] = [
        ("qubemem_audit_finished_jobs", "Finished jobs read in the audited window."),
        ("qubemem_audit_jobs_with_record", "Jobs whose prediction is the plugin's AdminComment record."),
        ("qubemem_audit_jobs_recomputed", "Jobs without a record whose qube comment was priced again."),
        ("qubemem_audit_jobs_without_prediction", "Jobs with neither record nor qube comment."),
        ("qubemem_audit_unreadable_records", "AdminComment records that could not be read."),
        ("qubemem_audit_malformed_rows", "sacct rows dropped as malformed."),
        ("qubemem_audit_jobs", "Audited jobs by final state."),
        ("qubemem_audit_oom_jobs", "Jobs that ran out of memory (job or step OUT_OF_MEMORY)."),
        ("qubemem_audit_near_miss_jobs", "Jobs whose peak reached the near-miss share of their request without OOM."),
        ("qubemem_audit_no_peak_jobs", "Jobs with no measured peak (no accounting data)."),
        ("qubemem_audit_peak_over_predicted_ratio", "Measured peak per node over predicted total, nearest-rank quantiles."),
        ("qubemem_audit_requested_over_peak_ratio", "Requested memory per node over measured peak, nearest-rank quantiles."),
        ("qubemem_audit_wasted_bytes", "Requested but unused memory, summed over nodes."),
        ("qubemem_audit_wasted_byte_seconds", "Requested but unused memory times run time."),
        ("qubemem_audit_current_slack", "The slack in force (the records' most common, or the configured one)."),
        ("qubemem_audit_recommended_slack", "The smallest slack covering the target share of jobs; absent with no eligible job."),
        ("qubemem_audit_recommendation_target_ratio", "The share of jobs the recommended slack must cover."),
        ("qubemem_audit_recommendation_eligible_jobs", "Jobs the recommendation is computed from."),
        ("qubemem_audit_recommendation_enough_jobs", "1 when there are enough eligible jobs for the target to mean anything, else 0."),
        ("qubemem_audit_recommendation_covered_jobs", "Eligible jobs the recommended slack would have covered."),
        ("qubemem_audit_current_covered_jobs", "Eligible jobs the current slack covered."),
        ("qubemem_audit_recommendation_requested_bytes", "Memory all eligible jobs would have requested at the recommended slack."),
        ("qubemem_audit_current_requested_bytes", "Memory all eligible jobs requested at the current slack."),
        ("qubemem_audit_timestamp_seconds", "When this audit was written (Unix time)."),
    ]

    static func render(_ r: AuditReport, source s: AuditSourceSummary, now: Double) -> String {
        var series: [String: [String]] = [:]
        func add(_ name: String, _ labels: [(String, String)], _ value: Double) {
            series[name, default: []].append(sample(name, labels, value))
        }
        add("qubemem_audit_finished_jobs", [], Double(r.finishedJobs))
        add("qubemem_audit_jobs_with_record", [], Double(r.withRecord))
        add("qubemem_audit_jobs_recomputed", [], Double(r.recomputed))
        add("qubemem_audit_jobs_without_prediction", [], Double(r.withoutPrediction))
        add("qubemem_audit_unreadable_records", [], Double(r.unreadableRecords))
        add("qubemem_audit_malformed_rows", [], Double(s.malformed))
        let groups: [(String, [AuditGroup])] = [("all", [r.overall]), ("path", r.byPath), ("model", r.byModel),
                                                ("ranks", r.byRanks)]
        for (kind, list) in groups {
            for g in list {
                var labels = [("group", kind)]
                if kind != "all" {
                    let prefix = kind + " "
                    labels.append((kind, g.name.hasPrefix(prefix) ? String(g.name.dropFirst(prefix.count)) : g.name))
                }
                for state in JobState.allCases {
                    if let n = g.byState[state] { add("qubemem_audit_jobs", labels + [("state", state.rawValue)], Double(n)) }
                }
                add("qubemem_audit_oom_jobs", labels, Double(g.oom))
                add("qubemem_audit_near_miss_jobs", labels, Double(g.nearMisses))
                add("qubemem_audit_no_peak_jobs", labels, Double(g.noData))
                for (name, q) in [("qubemem_audit_peak_over_predicted_ratio", g.measuredOverPredicted),
                                  ("qubemem_audit_requested_over_peak_ratio", g.requestedOverMeasured)] {
                    guard let q else { continue }
                    for (quantile, value) in [("0.5", q.p50), ("0.9", q.p90), ("0.99", q.p99), ("1", q.max)] {
                        add(name, labels + [("quantile", quantile)], value)
                    }
                }
                add("qubemem_audit_wasted_bytes", labels, g.wastedGiB * 1_073_741_824)
                add("qubemem_audit_wasted_byte_seconds", labels, g.wastedGiBHours * 1_073_741_824 * 3600)
            }
        }
        let rec = r.recommendation
        add("qubemem_audit_current_slack", [], Double(rec.currentSlack) / 10_000)
        if let slack = rec.slack { add("qubemem_audit_recommended_slack", [], Double(slack) / 10_000) }
        add("qubemem_audit_recommendation_target_ratio", [], rec.target)
        add("qubemem_audit_recommendation_eligible_jobs", [], Double(rec.eligible))
        add("qubemem_audit_recommendation_enough_jobs", [], rec.enoughJobs ? 1 : 0)
        add("qubemem_audit_recommendation_covered_jobs", [], Double(rec.covered))
        add("qubemem_audit_current_covered_jobs", [], Double(rec.currentCovered))
        add("qubemem_audit_recommendation_requested_bytes", [], rec.requestedGiB * 1_073_741_824)
        add("qubemem_audit_current_requested_bytes", [], rec.currentRequestedGiB * 1_073_741_824)
        add("qubemem_audit_timestamp_seconds", [], now)

        var text = ""
        for (name, help) in metrics {
            guard let lines = series[name] else { continue }
            text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            for line in lines { text += line + "\n" }
        }
        return text
    }

    /// One sample line: `name{label="value",...} value`.
    static func sample(_ name: String, _ labels: [(String, String)], _ value: Double) -> String {
        var line = name
        if !labels.isEmpty {
            line += "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
        }
        return line + " " + number(value)
    }

    /// A label value as the format wants it: backslash, double quote and newline escaped.
    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    /// A sample value: integers without a fraction, NaN and infinities as the format spells them.
    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
