// libFuzzer target `config`: qubemem.conf text, which the plugin re-reads inside slurmctld
// whenever the file changes. A file that parses must render and parse back to itself.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if case .success(let config) = SiteConfig.parse(text) {
        _ = config.summary
    }
    return 0
}
