/// Terms QUBE's reference model leaves out, measured on real runs and added by qubemem.
///
/// Harmonic path, fisher_run: the `fisher.compute.derivative_cache` transient. The reference
/// names it in its exclusions (about 5 × n_modes² × 8 B at eclipse-QU). On a real QUBE 1.3.0
/// harmonic Fisher (QU, nside 32, n_obs 2496, lmax 64, lmax_signal 128) the peak RSS was
/// 4.67 GiB against 2.81 GiB for the bare model plus baseline; with this term the prediction is
/// 4.66 GiB (FACTS.md §4).
public enum MeasuredTerms {
    /// The name the harmonic derivative-cache term carries in budgets and reports.
    public static var harmonicDerivativeCacheName: String { TermName.harmonicDerivativeCache.rawValue }
    /// Multiple of n_modes² × 8 bytes.
    public static let harmonicDerivativeCacheFactor: UInt64 = 5

    /// The reference budget with the measured terms added to their stages' transients.
    /// - Returns: `nil` when a term or a stage total does not fit in 64 bits.
    static func extend(_ budget: Budget, nModes: UInt64?) -> Budget? {
        switch budget.path {
        case .harmonic:
            guard let nModes, let sq = Checked.matrix(nModes, nModes),
                  let bytes = Checked.mul(sq, harmonicDerivativeCacheFactor)
            else { return nil }
            return budget.adding(transient: .harmonicDerivativeCache, bytes, to: .fisherRun)
        case .pixelDirect:
            return budget
        }
    }
}
