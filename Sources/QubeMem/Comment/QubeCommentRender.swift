// The writer of the `qube:` grammar: a spec back to its comment.

extension QubeComment {
    /// The comment that carries `spec`: `qube:` followed by its pairs in canonical order.
    public static func render(_ spec: RunSpec) -> String {
        var parts = [marker]
        func add(_ key: Key, _ value: String?) { if let value { parts.append("\(key.name)=\(value)") } }
        func flag(_ v: Bool?) -> String? { v.map { $0 ? "yes" : "no" } }
        add(.model, spec.model?.rawValue)
        add(.path, spec.path?.rawValue)
        add(.fields, spec.fields?.description)
        add(.nObs, spec.nObs.map(String.init))
        add(.nside, spec.nside.map(String.init))
        add(.fsky, spec.fskyMillionths.map(formatMillionths))
        add(.nPix, spec.nPix.map(String.init))
        add(.nModes, spec.nModes.map(String.init))
        add(.lmaxSignal, spec.lmaxSignal.map(String.init))
        add(.lmax, spec.lmax.map(String.init))
        add(.workingDim, spec.workingDim.map(String.init))
        add(.nBins, spec.nBins.map(String.init))
        add(.nParams, spec.nParams.map(String.init))
        add(.keepV, flag(spec.keepPixelProjector))
        add(.cache, flag(spec.cacheDerivatives))
        add(.switch, flag(spec.hasSwitch))
        add(.cross, flag(spec.cross))
        add(.covRead, spec.covarianceRead?.rawValue)
        return parts.joined(separator: " ")
    }
}
