import QubeMem

/// `qubemem predict --json`, schema `qubemem.predict/1` (documented in qubemem(1); keep stable).
enum PredictionJSON {
    static let schema = "qubemem.predict/1"

    static func render(_ p: Prediction, policy: RequestPolicy) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("schema", schema)
        w.field("model", p.model.rawValue)
        w.beginArray("releases")
        for r in p.model.releases { w.element(r) }
        w.endArray()
        w.field("path", p.path.rawValue)
        w.field("path_picked", p.pathWasPicked)
        let c = p.config
        w.beginObject("config")
        w.field("n_pix", c.nPix)
        w.field("n_modes", c.nModes)
        w.field("lmax_signal", c.lmaxSignal)
        w.field("lmax", c.lmax)
        w.field("working_dim", c.workingDim)
        w.field("n_bins", c.nBins)
        w.field("n_params", c.nParams)
        w.field("release_pixel_projector", c.releasePixelProjector)
        w.field("cache_derivatives", c.cacheDerivatives)
        w.field("has_switch", c.hasSwitch)
        w.field("fields", c.fields?.description)
        w.field("n_obs", c.nObs)
        w.endObject()
        w.beginArray("stages")
        for s in p.reference.stages {
            w.beginObject()
            w.field("name", s.name.rawValue)
            terms(&w, "persistent", s.persistent)
            terms(&w, "transient", s.transient)
            w.field("persistent_bytes", s.persistentBytes)
            w.field("transient_bytes", s.transientBytes)
            w.field("peak_bytes", s.peakBytes)
            w.endObject()
        }
        w.endArray()
        w.field("lifetime_peak_bytes", p.reference.lifetimePeakBytes)
        w.field("excludes", BudgetTable.excludes(p))
        w.beginArray("measured_terms")
        for (stage, t) in BudgetTable.measuredTerms(p) {
            w.beginObject()
            w.field("stage", stage.rawValue)
            w.field("name", t.name)
            w.field("bytes", t.bytes)
            w.endObject()
        }
        w.endArray()
        w.beginObject("request")
        w.field("peak_bytes", p.peakBytes)
        w.field("baseline_bytes", p.baselineBytes)
        w.field("total_bytes", p.totalBytes)
        w.field("slack", p.slack.description)
        w.field("request_mib", p.requestMiB)
        w.endObject()
        if let alt = p.alternative {
            w.beginObject("alternative")
            w.field("path", alt.path.rawValue)
            w.field("peak_bytes", alt.peakBytes)
            w.field("request_mib", alt.requestMiB)
            w.endObject()
        } else {
            w.field("alternative", raw: "null")
        }
        w.endObject()
        return w.text
    }

    private static func terms(_ w: inout JSONWriter, _ key: String, _ terms: [Term]) {
        w.beginArray(key)
        for t in terms {
            w.beginObject()
            w.field("name", t.name)
            w.field("bytes", t.bytes)
            w.endObject()
        }
        w.endArray()
    }
}
