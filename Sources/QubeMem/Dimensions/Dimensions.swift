/// QUBE's dimension rules (cosmocore's basis code), overflow-checked.
public enum Dimensions {
    /// Pixels of one HEALPix map: 12 × nside².
    public static func pixels(nside: UInt64) -> UInt64? {
        guard let sq = Checked.mul(nside, nside) else { return nil }
        return Checked.mul(sq, 12)
    }

    /// Observed pixels for a sky fraction: round(12 × nside² × fsky).
    /// - Parameter fskyMillionths: the sky fraction in millionths (0 < f ≤ 1 000 000).
    public static func observedPixels(nside: UInt64, fskyMillionths: UInt64) -> UInt64? {
        guard let all = pixels(nside: nside), let scaled = Checked.mul(all, fskyMillionths),
              let rounded = Checked.add(scaled, 500_000)
        else { return nil }
        return rounded / 1_000_000
    }

    /// Total pixel count: Σ over fields of (2 × n_obs for spin-2, n_obs for spin-0).
    public static func nPix(fields: FieldSet, nObs: UInt64) -> UInt64? {
        Checked.mul(fields.components, nObs)
    }

    /// Total mode count: Σ over fields of (2 or 1) × ((ℓ + 1)² − 4), ℓ ≥ 2 (monopole and dipole excluded).
    public static func nModes(fields: FieldSet, ell: UInt64) -> UInt64? {
        guard ell >= 2, let next = Checked.add(ell, 1), let sq = Checked.mul(next, next) else { return nil }
        return Checked.mul(fields.components, sq - 4)
    }

    /// QUBE's default number of bins: one per multipole from 2, max(ℓ − 1, 1).
    public static func defaultBins(ell: UInt64) -> UInt64 {
        ell > 2 ? ell - 1 : 1
    }

    /// QUBE's own path picker: harmonic when n_modes³ ≤ (n_bins + 1) × n_pix³, else pixel-direct.
    /// Computed in 128 bits; a side that does not fit counts as larger.
    public static func pickPath(nModes: UInt64, nPix: UInt64, nBins: UInt64) -> PipelinePath {
        let modesCubed = cube(nModes)
        let pixCubed = cube(nPix)
        var rhs: UInt128? = nil
        if let p = pixCubed {
            let (r, o) = UInt128(nBins).addingReportingOverflow(1)
            if !o {
                let (m, o2) = p.multipliedReportingOverflow(by: r)
                rhs = o2 ? nil : m
            }
        }
        switch (modesCubed, rhs) {
        case let (m?, r?): return m <= r ? .harmonic : .pixelDirect
        case (nil, _?): return .pixelDirect
        case (_, nil): return .harmonic
        }
    }

    private static func cube(_ x: UInt64) -> UInt128? {
        let x = UInt128(x)
        let (sq, o1) = x.multipliedReportingOverflow(by: x)
        if o1 { return nil }
        let (c, o2) = sq.multipliedReportingOverflow(by: x)
        return o2 ? nil : c
    }
}
