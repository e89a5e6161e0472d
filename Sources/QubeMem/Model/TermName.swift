/// Every term name a budget can carry: the reference model's, for all versions, and qubemem's
/// measured ones. Raw values are the names exactly as QUBE's reference prints them.
enum TermName: String, Sendable, CaseIterable {
    // Harmonic path.
    case covT = "Cov_T"
    case covTCopy = "Cov_T (asfortranarray copy on read)"
    case nUnrestricted = "N (unrestricted, alive during restriction)"
    case wTN = "W^T N intermediate"
    case cholesky = "L (Cholesky factor of N, in-place)"
    case vNinv = "V_N_inv"
    case mKernel = "V_Ninv_VT (M kernel)"
    case filterBasis = "W (filter basis, held all run)"
    case noiseBiasKernel = "T (noise-bias kernel, switch path)"
    case pixelProjector = "V (pixel projector)"
    case vBeforeRelease = "V (transient before release)"
    case vUnrestricted = "V (unrestricted, alive during V W Σ)"
    case sFixedSwitch = "S_fixed (switch optimisation)"
    case sFixedRestricted = "S_fixed (restricted copy)"
    case corrIntermediate = "corr intermediate (V_N_inv @ S_fixed)"
    case noiseCovT = "noise_cov_T (Spectra)"
    // Pixel-direct path.
    case covTRetained = "Cov_T (Core retains; not nullified for pixel-direct)"
    case covTCarried = "Cov_T (carried from covariance_setup)"
    case basisN = "basis._N (asfortranarray F-order copy)"
    case sFixedPool = "S_fixed (allocator pool retained)"
    case directPixBuffer = "_direct_pix_buffer (lazy on first derivative)"
    case derivativeCacheRetained = "binned derivative cache (retained for Spectra)"
    case cInv = "C_inv (basis_manager.get_projected_inverse)"
    case cinvTimesDcb = "cinv_times_dcb (n_params dense pixel matrices)"
    case kernelBeforeConjugation = "binned kernel output (before conjugation)"
    case conjugation = "conjugation intermediate (W^T dC)"
    case noiseCovW = "noise_cov_w (Spectra)"
    case cInvPerPoint = "C_inv per parameter point"
    case perBinProducts = "per-bin C^{-1} dC products"
    // qubemem's measured terms.
    case harmonicDerivativeCache = "derivative_cache (qubemem, measured: 5 × n_modes² × 8 B)"
    case crossDerivatives = "binned derivatives kept by the cross trace (qubemem: n_params × n_pix² × 8 B)"
    case fullSkyCovarianceRead = "full-sky noise covariance read (qubemem: (maps × 12 nside²)² × 8 B)"
}
