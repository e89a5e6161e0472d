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
        node(&w, p)
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

    /// The busiest node for the layout: per-rank phases and the per-node (or per-CPU) request.
    private static func node(_ w: inout JSONWriter, _ p: Prediction) {
        let n = p.node
        w.beginObject("node")
        w.beginObject("layout")
        w.field("ntasks", p.layout.tasks.map(Int.init))
        w.field("nodes", p.layout.nodes.map(Int.init))
        w.field("ntasks_per_node", p.layout.tasksPerNode.map(Int.init))
        w.field("cpus_per_task", p.layout.cpusPerTask.map(Int.init))
        w.endObject()
        w.field("multi_rank", p.layout.isMultiRank)
        w.field("ranks_per_node", n.perCPU ? nil : Int(n.ranks))
        w.field("per_cpu", n.perCPU)
        w.field("rank_floor_bytes", n.rankFloorBytes)
        phases(&w, "rank0", n.rankZero)
        phases(&w, "further_rank", n.furtherRank)
        phases(&w, "node_phases", n.node)
        w.field("total_bytes", n.totalBytes)
        w.field("request_mib", n.requestMiB)
        w.field("request_unit", n.perCPU ? "MiB per CPU" : "MiB per node")
        w.endObject()
    }

    private static func phases(_ w: inout JSONWriter, _ key: String, _ p: NodeBudget.Phases) {
        w.beginObject(key)
        w.field("setup_bytes", p.setup)
        w.field("broadcast_bytes", p.broadcast)
        w.field("run_bytes", p.run)
        w.field("peak_bytes", p.peak)
        w.endObject()
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
