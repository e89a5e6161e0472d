import QubeMem
import QubeMemInputs

/// The dimensions derived from a QUBE YAML config and its mask, printed so the user can check
/// them against the run (`qubemem predict --qube-config`).
enum QubeConfigReport {
    static func render(_ run: LoadedQubeConfig) -> String {
        let d = run.derived
        let c = run.file.config
        var fieldNames: [String] = []
        for (i, spin) in d.fields.spins.enumerated() {
            fieldNames.append("field \(i) (spin \(spin)) \(d.nObs.indices.contains(i) ? String(d.nObs[i]) : "?")")
        }
        var text = "QUBE run config '\(run.file.path)', mask '\(run.maskPath)'\n"
        text += "  nside=\(c.nside)  fields=\(d.fields)  unmasked pixels: \(fieldNames.joined(separator: ", "))\n"
        text += "  n_pix=\(d.nPix)  n_modes=\(d.nModes)  lmin=\(c.lmin)  lmax=\(d.lmax)"
        text += "  lmax_signal=\(d.lmaxSignal)\(c.lmaxSignal == nil ? " (4 × nside)" : "")\n"
        if let path = d.path {
            text += "  path: \(path.rawValue), QUBE's CLI pick (harmonic when n_modes³ ≤ (n_bins + 1) × n_pix³, "
            text += "with n_bins = max(lmax_signal − 1, 1) = \(d.pickBins))\n"
        } else {
            text += "  path: traditional (do_cross: QUBE uses no computation basis); priced as pixel_direct "
            text += "(dense pixel-space matrices) with the second noise covariance\n"
        }
        let binning = c.binLmins != nil && c.binLmaxs != nil ? "bin_lmins/bin_lmaxs" : "delta_ell=\(c.deltaEll) from lmin to lmax"
        text += "  bins: \(d.nBins) (\(binning))  n_params=\(d.nParams)\n"
        var covariance = "  noise covariance: \(d.covariances) file(s)"
        if let bytes = d.fullSkyCovarianceBytes {
            covariance += ", each read full-sky first (load_reduced: false): \(Units.gib(bytes)) at once"
        } else {
            covariance += ", read reduced (load_reduced: true)"
        }
        text += covariance + "\n"
        if let nsims = run.file.nsims {
            text += "  nsims=\(nsims): maps of Spectra runs (n_pix × nsims × 8 B) are not priced\n"
        }
        text += "  comment: \(QubeComment.render(d.spec))\n"
        return text
    }
}
