import QubeMem
import QubeMemSystem

/// The budget beside the measurement: for each of the model's stages, the budget's peak above
/// baseline and the measured peak above the measured baseline, and the same for the lifetime peak
/// and the total the request is built from.
struct Comparison: Equatable {
    struct Row: Equatable {
        var stage: String
        /// Budget peak of the stage above baseline, bytes.
        var budgetBytes: UInt64
        /// Measured peak above the measured baseline, bytes; nil when no marked stage maps to it.
        var measuredBytes: UInt64?
        /// The QUBE stage names that were folded into this model stage.
        var sources: [String]
    }

    var model: String
    var path: String
    var rows: [Row]
    var budgetLifetimeBytes: UInt64
    var measuredLifetimeBytes: UInt64
    /// Predicted total = the policy's baseline + lifetime peak, and the measured tree peak.
    var predictedTotalBytes: UInt64
    var predictedBaselineBytes: UInt64
    var measuredTotalBytes: UInt64
    var measuredBaselineBytes: UInt64
    var requestMiB: UInt64

    /// Which model stage a QUBE stage mark belongs to (`Fisher._stage` / `Spectra._stage` names),
    /// nil for marks outside the model (setup_static, the interpreter's own work).
    static func modelStage(for mark: String) -> StageName? {
        switch mark {
        case "fisher.covariance_setup", "fisher.setup_cls_beams", "fisher.prepare_covariance":
            return .covarianceSetup
        case "fisher.basis_setup":
            return .basisSetup
        case _ where mark.hasPrefix("fisher.compute") || mark == "fisher.mpi_distribution" || mark == "fisher.binning_beam":
            return .fisherRun
        case _ where mark.hasPrefix("spectra."):
            return .spectraRun
        default:
            return StageName(rawValue: mark)
        }
    }

    init(prediction: Prediction, result: ProfileResult) {
        model = prediction.model.rawValue
        path = prediction.path.rawValue
        let base = result.baselineBytes
        var rows: [Row] = []
        var measuredLifetime: UInt64 = 0
        for stage in prediction.budget.stages {
            let marks = result.stages.filter { Self.modelStage(for: $0.name) == stage.name }
            let measured = marks.map { $0.peakBytes > base ? $0.peakBytes - base : 0 }.max()
            rows.append(Row(stage: stage.name.rawValue, budgetBytes: stage.peakBytes, measuredBytes: measured,
                            sources: Array(Set(marks.map(\.name))).sorted()))
        }
        self.rows = rows
        measuredLifetime = result.peakBytes > base ? result.peakBytes - base : 0
        budgetLifetimeBytes = prediction.peakBytes
        measuredLifetimeBytes = measuredLifetime
        predictedTotalBytes = prediction.totalBytes
        predictedBaselineBytes = prediction.baselineBytes
        measuredTotalBytes = result.peakBytes
        measuredBaselineBytes = base
        requestMiB = prediction.requestMiB
    }

    func text() -> String {
        var out = "\nbudget vs measured (model \(model), \(path); peaks above baseline)\n"
        out += ProfileFormat.pad("stage", 20) + ProfileFormat.pad("budget", 12, right: true)
            + ProfileFormat.pad("measured", 12, right: true) + ProfileFormat.pad("ratio", 8, right: true) + "  from marks\n"
        for r in rows {
            out += ProfileFormat.pad(r.stage, 20) + ProfileFormat.pad(ProfileFormat.size(r.budgetBytes), 12, right: true)
            out += ProfileFormat.pad(r.measuredBytes.map(ProfileFormat.size) ?? "-", 12, right: true)
            out += ProfileFormat.pad(r.measuredBytes.map { ProfileFormat.ratio($0, r.budgetBytes) } ?? "-", 8, right: true)
            out += "  " + (r.sources.isEmpty ? "(no marks)" : r.sources.joined(separator: ", ")) + "\n"
        }
        out += ProfileFormat.pad("lifetime peak", 20) + ProfileFormat.pad(ProfileFormat.size(budgetLifetimeBytes), 12, right: true)
            + ProfileFormat.pad(ProfileFormat.size(measuredLifetimeBytes), 12, right: true)
            + ProfileFormat.pad(ProfileFormat.ratio(measuredLifetimeBytes, budgetLifetimeBytes), 8, right: true) + "\n"
        out += ProfileFormat.pad("baseline", 20) + ProfileFormat.pad(ProfileFormat.size(predictedBaselineBytes), 12, right: true)
            + ProfileFormat.pad(ProfileFormat.size(measuredBaselineBytes), 12, right: true)
            + ProfileFormat.pad(ProfileFormat.ratio(measuredBaselineBytes, predictedBaselineBytes), 8, right: true) + "\n"
        out += ProfileFormat.pad("total", 20) + ProfileFormat.pad(ProfileFormat.size(predictedTotalBytes), 12, right: true)
            + ProfileFormat.pad(ProfileFormat.size(measuredTotalBytes), 12, right: true)
            + ProfileFormat.pad(ProfileFormat.ratio(measuredTotalBytes, predictedTotalBytes), 8, right: true) + "\n"
        let requestBytes = requestMiB.multipliedReportingOverflow(by: 1 << 20)
        let fits = !requestBytes.overflow && measuredTotalBytes <= requestBytes.partialValue
        out += "request \(requestMiB) MiB: the measured peak \(fits ? "fits" : "DOES NOT FIT") "
            + "(\(ProfileFormat.ratio(measuredTotalBytes, requestBytes.overflow ? UInt64.max : requestBytes.partialValue)) of it)\n"
        return out
    }

    func json(_ w: inout JSONWriter) {
        w.beginObject("comparison")
        w.field("model", model)
        w.field("path", path)
        w.beginArray("stages")
        for r in rows {
            w.beginObject()
            w.field("name", r.stage)
            w.field("budget_bytes", r.budgetBytes)
            w.field("measured_bytes", r.measuredBytes)
            w.field("ratio", raw: r.measuredBytes.map { r.budgetBytes == 0 ? "null" : ProfileFormat.json(Double($0) / Double(r.budgetBytes)) } ?? "null")
            w.beginArray("marks")
            for s in r.sources { w.element(s) }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.field("budget_lifetime_peak_bytes", budgetLifetimeBytes)
        w.field("measured_lifetime_peak_bytes", measuredLifetimeBytes)
        w.field("predicted_baseline_bytes", predictedBaselineBytes)
        w.field("measured_baseline_bytes", measuredBaselineBytes)
        w.field("predicted_total_bytes", predictedTotalBytes)
        w.field("measured_total_bytes", measuredTotalBytes)
        w.field("request_mib", requestMiB)
        w.endObject()
    }
}
