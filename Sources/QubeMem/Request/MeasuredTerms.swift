/// Terms QUBE's reference model leaves out, measured on real runs and added by qubemem.
///
/// Harmonic path, fisher_run: the `fisher.compute.derivative_cache` transient. The reference
/// names it in its exclusions (about 5 × n_modes² × 8 B at eclipse-QU). On a real QUBE 1.3.0
/// harmonic Fisher (QU, nside 32, n_obs 2496, lmax 64, lmax_signal 128) the peak RSS was
/// 4.67 GiB against 2.81 GiB for the bare model plus baseline; with this term the prediction is
/// 4.66 GiB (FACTS.md §4).
///
/// Any path, covariance_setup: the full-sky noise covariance read. With `load_reduced: false`
/// (the default of QUBE's YAML runs) cosmocore's `read_covmat` loads the whole full-sky matrix,
/// (maps × 12 nside²)² × 8 bytes, with `np.fromfile` before copying the unmasked block out of it;
/// the reference model starts from the reduced matrix. Priced when a comment says `cov_read=full`.
///
/// A cross run (`do_cross`) holds a second noise covariance of n_pix² × 8 bytes all run; it is
/// priced as a second input covariance in the baseline (`cross=yes`), not as a stage term.
public enum MeasuredTerms {
    /// The name the harmonic derivative-cache term carries in budgets and reports.
    public static var harmonicDerivativeCacheName: String { TermName.harmonicDerivativeCache.rawValue }
    /// Multiple of n_modes² × 8 bytes.
    public static let harmonicDerivativeCacheFactor: UInt64 = 5

    /// The name the full-sky covariance read carries in budgets and reports.
    public static var fullSkyCovarianceReadName: String { TermName.fullSkyCovarianceRead.rawValue }

    /// Bytes of a full-sky covariance: (components × 12 nside²)² × 8.
    /// - Returns: `nil` when it does not fit in 64 bits.
    public static func fullSkyCovarianceBytes(fields: FieldSet, nside: UInt64) -> UInt64? {
        guard let pixels = Dimensions.pixels(nside: nside), let side = Checked.mul(pixels, fields.components) else {
            return nil
        }
        return Checked.matrix(side, side)
    }

    /// The reference budget with the measured terms added to their stages' transients.
    /// - Parameter fullSkyCovarianceBytes: the full-sky covariance read, when the run does it.
    /// - Returns: `nil` when a term or a stage total does not fit in 64 bits.
    static func extend(_ budget: Budget, nModes: UInt64?, fullSkyCovarianceBytes: UInt64? = nil) -> Budget? {
        var out = budget
        if let fullSkyCovarianceBytes {
            guard let b = out.adding(transient: .fullSkyCovarianceRead, fullSkyCovarianceBytes, to: .covarianceSetup) else {
                return nil
            }
            out = b
        }
        switch budget.path {
        case .harmonic:
            guard let nModes, let sq = Checked.matrix(nModes, nModes),
                  let bytes = Checked.mul(sq, harmonicDerivativeCacheFactor)
            else { return nil }
            return out.adding(transient: .harmonicDerivativeCache, bytes, to: .fisherRun)
        case .pixelDirect:
            return out
        }
    }
}
