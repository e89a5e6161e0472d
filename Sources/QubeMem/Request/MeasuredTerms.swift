/// Terms QUBE's reference model leaves out, measured on real runs and added by qubemem.
///
/// Harmonic path, fisher_run: the `fisher.compute.derivative_cache` transient. The reference
/// names it in its exclusions (about 5 × n_modes² × 8 B at eclipse-QU). On a real QUBE 1.3.0
/// harmonic Fisher (QU, nside 32, n_obs 2496, lmax 64, lmax_signal 128) the peak RSS was
/// 4.67 GiB against 2.81 GiB for the bare model plus baseline; with this term the prediction is
/// 4.66 GiB (docs/facts.md §3).
///
/// Any path, covariance_setup: the full-sky noise covariance read. With `load_reduced: false`
/// (the default of QUBE's YAML runs) cosmocore's `read_covmat` loads the whole full-sky matrix,
/// (maps × 12 nside²)² × 8 bytes, with `np.fromfile` before copying the unmasked block out of it;
/// the reference model starts from the reduced matrix. Priced when a comment says `cov_read=full`.
///
/// A cross run (`do_cross`, comment `cross=yes`) takes QUBE's traditional path, priced as
/// pixel-direct (dense pixel-space matrices) with two additions: a second noise covariance of
/// n_pix² × 8 bytes held all run (a second input covariance in the baseline), and, in fisher_run,
/// the binned derivative dC of every parameter, which the cross trace keeps beside the
/// C₂⁻¹ dC C₁⁻¹ products (`binned_derivatives` in qube/fisher.py): n_params × n_pix² × 8 bytes.
/// Measured on a real `qube-fisher-run` (QU, nside 16, n_obs 864, lmax 32, 93 parameters):
/// peak RSS 4.53 GiB; pixel-direct alone with both covariances predicted 2.45 GiB, with this term
/// 4.57 GiB.
///
/// The full-sky read was measured with the same config: covariance_setup rose 333 MiB above the
/// RSS before it (the 288 MiB full matrix, the reduced matrix and one block copy of it), against
/// 45 MiB with `load_reduced: true`; qubemem's covariance_setup with the term: 356 MiB.
public enum MeasuredTerms {
    /// The name the harmonic derivative-cache term carries in budgets and reports.
    public static var harmonicDerivativeCacheName: String { TermName.harmonicDerivativeCache.rawValue }
    /// Multiple of n_modes² × 8 bytes.
    public static let harmonicDerivativeCacheFactor: UInt64 = 5

    /// The name the cross run's kept derivatives carry in budgets and reports.
    public static var crossDerivativesName: String { TermName.crossDerivatives.rawValue }

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
    /// - Parameter crossDerivativeBytes: pixel-direct: the derivatives a cross run keeps.
    static func extend(_ budget: Budget, nModes: UInt64?, fullSkyCovarianceBytes: UInt64? = nil,
                       crossDerivativeBytes: UInt64? = nil) -> Budget? {
        var out = budget
        if let fullSkyCovarianceBytes {
            guard let b = out.adding(transient: .fullSkyCovarianceRead, fullSkyCovarianceBytes, to: .covarianceSetup) else {
                return nil
            }
            out = b
        }
        if budget.path == .pixelDirect, let crossDerivativeBytes {
            guard let b = out.adding(transient: .crossDerivatives, crossDerivativeBytes, to: .fisherRun) else {
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
