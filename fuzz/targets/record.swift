// libFuzzer target `record`: AdminComment text, which any tool on the cluster may write (the
// plugin's `qubemem:v1` records among others). The record finder must agree with itself on the
// same bytes read as a String.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let found = AdminRecord.find(in: bytes)
    if case .record(let r) = found {
        _ = r.predictedTotalBytes
        _ = r.predictedNodeBytes(cpusPerNode: UInt64(size))
    }
    // Valid UTF-8 comes back the same through the String entry point.
    let text = String(decoding: bytes, as: UTF8.self)
    if Array(text.utf8) == Array(bytes), AdminRecord.find(in: text) != found {
        fatalError("String and byte readers disagree on \(Array(bytes))")
    }
    return 0
}
