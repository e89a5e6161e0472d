// libFuzzer target `slurmdbdconf`: slurmdbd.conf and slurm.conf text, read by
// `audit --source db` to find the database and the cluster.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = SlurmdbdSettings.parse(slurmdbdConf: text)
    _ = SlurmdbdSettings.clusterName(slurmConf: text)
    return 0
}
