import QubeMem

/// `qubemem predict --json`, schema `qubemem.predict/1` (documented in qubemem(1); keep stable).
enum PredictionJSON {
    static let schema = "qubemem.predict/1"

    /// - Parameter run: the QUBE YAML run the prediction came from (`--qube-config`), if any: an
    ///   extra `qube_config` object with the derived dimensions.
    static func render(_ p: Prediction, policy: RequestPolicy, run: LoadedQubeConfig? = nil) -> String {
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
        if let run { qubeConfig(&w, run) }
        w.endObject()
        return w.text
    }

    /// `qube_config`: what qubemem derived from a QUBE YAML config and its mask, as QUBE would.
    private static func qubeConfig(_ w: inout JSONWriter, _ run: LoadedQubeConfig) {
        let d = run.derived
        w.beginObject("qube_config")
        w.field("file", run.file.path)
        w.field("maskfile", run.maskPath)
        w.field("nside", run.file.config.nside)
        w.field("fields", d.fields.description)
        w.beginArray("n_obs")
        for n in d.nObs { w.element(raw: String(n)) }
        w.endArray()
        w.field("n_pix", d.nPix)
        w.field("n_modes", d.nModes)
        w.field("lmin", run.file.config.lmin)
        w.field("lmax", d.lmax)
        w.field("lmax_signal", d.lmaxSignal)
        w.field("pick_n_bins", d.pickBins)
        w.field("n_bins", d.nBins)
        w.field("n_params", d.nParams)
        w.field("path", d.path?.rawValue ?? "traditional")
        w.field("priced_path", d.pricedPath.rawValue)
        w.field("do_cross", run.file.config.doCross)
        w.field("load_reduced", run.file.config.loadReduced)
        w.field("full_sky_covariance_bytes", d.fullSkyCovarianceBytes)
        w.field("comment", QubeComment.render(d.spec))
        w.beginArray("warnings")
        for warning in run.file.warnings { w.element(warning) }
        w.endArray()
        w.endObject()
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
