import QubeMemSystem

/// The text and JSON forms of a `ProfileResult`.
enum ProfileReport {
    static func text(_ r: ProfileResult, comparison: Comparison? = nil) -> String {
        var out = "qubemem profile: \(r.command.joined(separator: " "))\n"
        func line(_ label: String, _ value: String) { out += ProfileFormat.pad(label, 13) + value + "\n" }
        line("command", r.timedOut ? "timed out and killed (\(r.exit))" : r.exit.description)
        line("elapsed", "\(ProfileFormat.seconds(r.elapsedSeconds))  (user \(ProfileFormat.seconds(r.userSeconds)), system \(ProfileFormat.seconds(r.systemSeconds)))")
        line("processes", "\(r.processes.count) in the tree" + (r.leftRunning.isEmpty ? "" : ", \(r.leftRunning.count) left running (pids \(r.leftRunning.map(String.init).joined(separator: " ")))"))
        let exactness = r.highWaterMarksReset
            ? "kernel high-water marks per \(Int((r.marksEverySeconds * 1000).rounded())) ms"
                + (r.marksEverySeconds > r.intervalSeconds ? ", RSS every \(Int((r.intervalSeconds * 1000).rounded())) ms" : " interval")
            : "lifetime high-water marks (reset refused: an upper bound)"
        line("peak RSS", "\(ProfileFormat.size(r.peakBytes)) at \(ProfileFormat.seconds(r.peakTime))  (sum of the tree's per-process RSS, \(exactness); highest sample \(ProfileFormat.size(r.peakSampledBytes)))")
        line("cgroup peak", cgroupText(r))
        if let pss = r.samples.compactMap(\.pssBytes).max() {
            line("peak PSS", "\(ProfileFormat.size(pss))  (highest smaps_rollup reading)")
        }
        if let t = r.peakBreakdownTime {
            let parts = [("anonymous", "Anonymous"), ("file", "Pss_File"), ("shmem", "Pss_Shmem"), ("huge pages", "AnonHugePages"), ("swap", "Swap")]
            line("at the peak", parts.map { "\($0.0) \(ProfileFormat.size(r.breakdown($0.1)))" }.joined(separator: ", ")
                + "  (smaps_rollup at \(ProfileFormat.seconds(t)), RSS \(ProfileFormat.size(r.breakdown("Rss"))))")
        }
        if !r.stages.isEmpty {
            line("baseline", "\(ProfileFormat.size(r.baselineBytes))  (RSS when the baseline stage was entered)")
        }
        line("timeline", Sparkline.render(samples: r.samples.map { ($0.time, $0.intervalPeakBytes) }) + "  0 to \(ProfileFormat.size(r.peakBytes)) over \(ProfileFormat.seconds(r.elapsedSeconds))")
        let cpuShare = r.elapsedSeconds > 0 ? r.profilerCPUSeconds / r.elapsedSeconds * 100 : 0
        line("profiler", "\(ProfileFormat.seconds(r.profilerCPUSeconds)) CPU (\(String(format: "%.2f", cpuShare))% of a core), \(r.samples.count) samples")
        out += ProcessTable.text(r)
        if !r.stages.isEmpty {
            out += "\n" + ProfileFormat.pad("stage", 36) + ProfileFormat.pad("enter", 10, right: true) + ProfileFormat.pad("exit", 10, right: true)
                + ProfileFormat.pad("entry RSS", 12, right: true) + ProfileFormat.pad("exit RSS", 12, right: true)
                + ProfileFormat.pad("peak RSS", 12, right: true) + ProfileFormat.pad("above base", 12, right: true) + "\n"
            for s in r.stages {
                out += ProfileFormat.pad(String(repeating: "  ", count: s.depth) + s.name, 36)
                out += ProfileFormat.pad(ProfileFormat.seconds(s.enter), 10, right: true)
                out += ProfileFormat.pad(s.exit.map(ProfileFormat.seconds) ?? "-", 10, right: true)
                out += ProfileFormat.pad(ProfileFormat.size(s.entryRSSBytes), 12, right: true)
                out += ProfileFormat.pad(s.exitRSSBytes.map(ProfileFormat.size) ?? "-", 12, right: true)
                out += ProfileFormat.pad(ProfileFormat.size(s.peakBytes), 12, right: true)
                out += ProfileFormat.pad(ProfileFormat.signedSize(s.peakBytes, minus: r.baselineBytes), 12, right: true) + "\n"
            }
        }
        if let comparison { out += comparison.text() }
        return out
    }

    /// The value of the "cgroup peak" line: the kernel's peak of the cgroup's charge, what that
    /// cgroup is, or why there is no such figure.
    static func cgroupText(_ r: ProfileResult) -> String {
        guard let c = r.cgroup else { return "none: \(r.cgroupUnavailable ?? "not measured")" }
        let file = c.version == 1 ? "memory.max_usage_in_bytes" : "memory.peak"
        let peak = c.peakBytes.map(ProfileFormat.size) ?? "unreadable"
        let sampled = "highest sample \(ProfileFormat.size(c.peakSampledBytes)) at \(ProfileFormat.seconds(c.peakSampledTime))"
        var text: String
        switch c.kind {
        case .own:
            text = "\(peak)  (charge of the run's own cgroup v\(c.version), kernel \(file): each page once however many processes map it, "
                + "page cache and shmem they touched included, the figure an OOM kill is decided on; \(sampled))"
        case .slurmJob:
            text = "\(peak)  (charge of the SLURM job's cgroup v\(c.version) \(c.directory), kernel \(file) since the job started, read only; "
                + "each page once, page cache and shmem included; during this run \(sampled), \(ProfileFormat.size(c.startBytes)) at its start)"
        }
        if let e = c.removalError { text += "; not removed: \(e)" }
        return text
    }

    /// JSON, schema "qubemem.profile/1" (documented in `profile --help`).
    static func json(_ r: ProfileResult, comparison: Comparison? = nil) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("schema", "qubemem.profile/1")
        w.beginArray("command")
        for a in r.command { w.element(a) }
        w.endArray()
        w.beginObject("exit")
        switch r.exit {
        case .exited(let c):
            w.field("kind", "exited"); w.field("code", Int(c)); w.field("signal", nil as Int?)
        case .signaled(let s, let core):
            w.field("kind", "signaled"); w.field("code", nil as Int?); w.field("signal", Int(s))
            w.field("signal_name", signalName(s)); w.field("core_dumped", core)
        }
        w.endObject()
        w.field("timed_out", r.timedOut)
        w.field("interval_seconds", raw: ProfileFormat.json(r.intervalSeconds))
        w.field("elapsed_seconds", raw: ProfileFormat.json(r.elapsedSeconds))
        w.field("user_seconds", raw: ProfileFormat.json(r.userSeconds))
        w.field("system_seconds", raw: ProfileFormat.json(r.systemSeconds))
        w.field("peak_bytes", r.peakBytes)
        w.field("peak_time", raw: ProfileFormat.json(r.peakTime))
        w.field("peak_sampled_bytes", r.peakSampledBytes)
        w.field("peak_sampled_time", raw: ProfileFormat.json(r.peakSampledTime))
        w.field("high_water_marks_reset", r.highWaterMarksReset)
        w.field("peak_pss_bytes", r.samples.compactMap(\.pssBytes).max())
        w.field("baseline_bytes", r.baselineBytes)
        w.beginObject("peak_breakdown")
        for e in r.peakBreakdown { w.field(e.key, e.bytes) }
        w.endObject()
        w.field("peak_breakdown_time", raw: r.peakBreakdownTime.map(ProfileFormat.json) ?? "null")
        w.field("profiler_cpu_seconds", raw: ProfileFormat.json(r.profilerCPUSeconds))
        if let c = r.cgroup {
            w.beginObject("cgroup")
            w.field("kind", c.kind.rawValue)
            w.field("version", c.version)
            w.field("directory", c.directory)
            w.field("peak_bytes", c.peakBytes)
            w.field("peak_sampled_bytes", c.peakSampledBytes)
            w.field("peak_sampled_time", raw: ProfileFormat.json(c.peakSampledTime))
            w.field("start_bytes", c.startBytes)
            w.field("removal_error", c.removalError)
            w.endObject()
        } else {
            w.field("cgroup", raw: "null")
        }
        w.field("cgroup_unavailable", r.cgroupUnavailable)
        w.beginArray("stages")
        for s in r.stages {
            w.beginObject()
            w.field("name", s.name)
            w.field("depth", s.depth)
            w.field("enter", raw: ProfileFormat.json(s.enter))
            w.field("exit", raw: s.exit.map(ProfileFormat.json) ?? "null")
            w.field("entry_rss_bytes", s.entryRSSBytes)
            w.field("exit_rss_bytes", s.exitRSSBytes)
            w.field("peak_bytes", s.peakBytes)
            w.field("peak_time", raw: ProfileFormat.json(s.peakTime))
            w.field("peak_sampled_bytes", s.peakSampledBytes)
            w.field("peak_above_baseline_bytes", s.peakBytes > r.baselineBytes ? s.peakBytes - r.baselineBytes : 0)
            w.endObject()
        }
        w.endArray()
        w.beginArray("processes")
        for p in r.processes {
            w.beginObject()
            w.field("pid", Int(p.pid)); w.field("ppid", Int(p.ppid)); w.field("name", p.name)
            w.field("first_seen", raw: ProfileFormat.json(p.firstSeen))
            w.field("ended", raw: p.ended.map(ProfileFormat.json) ?? "null")
            w.field("peak_bytes", p.peakBytes)
            w.field("peak_time", raw: ProfileFormat.json(p.peakTime))
            w.field("reaped_by_profiler", p.reapedByProfiler)
            w.field("rank_variable", p.identity.rankVariable)
            w.field("rank", p.identity.rank)
            w.field("command_line", p.identity.commandLine)
            w.endObject()
        }
        w.endArray()
        w.beginArray("left_running")
        for p in r.leftRunning { w.beginObject(); w.field("pid", Int(p)); w.endObject() }
        w.endArray()
        w.beginArray("samples")
        for s in r.samples {
            w.beginObject()
            w.field("t", raw: ProfileFormat.json(s.time))
            w.field("rss", s.rssBytes)
            w.field("interval_peak", s.intervalPeakBytes)
            w.field("pss", s.pssBytes)
            w.field("processes", s.processes)
            w.field("cgroup", s.cgroupBytes)
            w.field("stage", s.stage)
            w.endObject()
        }
        w.endArray()
        if let comparison { comparison.json(&w) }
        w.endObject()
        return w.text
    }
}
