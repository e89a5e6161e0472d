import Foundation
import QubeMem
import QubeMemSystem

/// One row of a sweep's result.
struct SweepRow {
    enum Status: Equatable {
        case ok
        case failed(ExitStatus)
        case timeout
        case error(String)

        var label: String {
            switch self {
            case .ok: return "ok"
            case .failed(let s): if case .exited(let c) = s { return "exit \(c)" } else if case .signaled(let n, _) = s { return signalName(n) } else { return "failed" }
            case .timeout: return "timeout"
            case .error: return "error"
            }
        }
    }

    var index: Int
    var values: [String: String]
    var command: [String]
    var status: Status
    var result: ProfileResult?
    var prediction: Prediction?
    var predictionError: String?

    var measuredAboveBaseline: UInt64? {
        result.map { $0.peakBytes > $0.baselineBytes ? $0.peakBytes - $0.baselineBytes : 0 }
    }
}

/// The sweep's table as text, JSON and CSV.
enum SweepTable {
    static let headers = ["row", "parameters", "status", "elapsed_s", "peak_mib", "baseline_mib",
                          "peak_above_baseline_mib", "predicted_peak_mib", "predicted_total_mib", "request_mib",
                          "ratio_total", "ratio_peak"]

    static func cells(_ r: SweepRow, columns: [String]) -> [String] {
        func mib(_ b: UInt64?) -> String { b.map { String(format: "%.1f", Double($0) / 1048576) } ?? "" }
        func ratio(_ a: UInt64?, _ b: UInt64?) -> String {
            guard let a, let b, b > 0 else { return "" }
            return String(format: "%.3f", Double(a) / Double(b))
        }
        let params = columns.compactMap { c in r.values[c].map { "\(c)=\($0)" } }.joined(separator: " ")
        let measuredTotal = r.status == .ok ? r.result?.peakBytes : nil
        let measuredAbove = r.status == .ok ? r.measuredAboveBaseline : nil
        return [String(r.index), params, r.status.label,
                r.result.map { String(format: "%.2f", $0.elapsedSeconds) } ?? "",
                mib(measuredTotal), mib(r.result?.baselineBytes), mib(measuredAbove),
                mib(r.prediction?.peakBytes), mib(r.prediction?.totalBytes),
                r.prediction.map { String($0.requestMiB) } ?? "",
                ratio(measuredTotal, r.prediction?.totalBytes), ratio(measuredAbove, r.prediction?.peakBytes)]
    }

    static func text(_ rows: [SweepRow], columns: [String]) -> String {
        let titles = ["row", "parameters", "status", "elapsed", "peak MiB", "base MiB", "above MiB",
                      "pred MiB", "pred tot", "request", "ratio tot", "ratio peak"]
        let table = [titles] + rows.map { cells($0, columns: columns) }
        let widths = (0..<titles.count).map { i in table.map { $0[i].count }.max() ?? 0 }
        var out = ""
        for line in table {
            out += line.enumerated().map { i, cell in
                i == 1 || i == 2 ? ProfileFormat.pad(cell, widths[i]) : ProfileFormat.pad(cell, widths[i], right: true)
            }.joined(separator: "  ") + "\n"
        }
        let ok = rows.filter { $0.status == .ok }.count
        let timeouts = rows.filter { $0.status == .timeout }.count
        out += "\n\(rows.count) rows: \(ok) ok, \(timeouts) timed out, \(rows.count - ok - timeouts) failed\n"
        for r in rows {
            if case .error(let why) = r.status { out += "row \(r.index): \(why)\n" }
            if let e = r.predictionError { out += "row \(r.index): no prediction: \(e)\n" }
        }
        return out
    }

    static func csv(_ rows: [SweepRow], columns: [String]) -> String {
        func quote(_ s: String) -> String {
            s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = headers.joined(separator: ",") + "\n"
        for r in rows { out += cells(r, columns: columns).map(quote).joined(separator: ",") + "\n" }
        return out
    }

    static func json(_ rows: [SweepRow], columns: [String]) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("schema", "qubemem.sweep/1")
        w.beginArray("rows")
        for r in rows {
            w.beginObject()
            w.field("row", r.index)
            w.beginObject("parameters")
            for c in columns { if let v = r.values[c] { w.field(c, v) } }
            w.endObject()
            w.beginArray("command")
            for a in r.command { w.element(a) }
            w.endArray()
            w.field("status", r.status.label)
            if case .error(let why) = r.status { w.field("error", why) } else { w.field("error", nil as String?) }
            w.field("elapsed_seconds", raw: r.result.map { ProfileFormat.json($0.elapsedSeconds) } ?? "null")
            w.field("peak_bytes", r.result?.peakBytes)
            w.field("baseline_bytes", r.result?.baselineBytes)
            w.field("peak_above_baseline_bytes", r.measuredAboveBaseline)
            w.field("predicted_peak_bytes", r.prediction?.peakBytes)
            w.field("predicted_baseline_bytes", r.prediction?.baselineBytes)
            w.field("predicted_total_bytes", r.prediction?.totalBytes)
            w.field("request_mib", r.prediction?.requestMiB)
            w.field("model", r.prediction?.model.rawValue)
            w.field("path", r.prediction?.path.rawValue)
            w.field("prediction_error", r.predictionError)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text
    }
}
