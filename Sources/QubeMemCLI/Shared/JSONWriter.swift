/// A small ordered JSON writer: keys come out in the order they are written, so the schema
/// documented in qubemem(1) reads the same as the output.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma: [Bool] = [false]

    mutating func beginObject(_ key: String? = nil) { open(key, "{") }
    mutating func endObject() { close("}") }
    mutating func beginArray(_ key: String? = nil) { open(key, "[") }
    mutating func endArray() { close("]") }

    mutating func field(_ key: String, _ value: String?) { emit(key, value.map(Self.quote) ?? "null") }
    mutating func field(_ key: String, _ value: UInt64?) { emit(key, value.map { String($0) } ?? "null") }
    mutating func field(_ key: String, _ value: Int?) { emit(key, value.map { String($0) } ?? "null") }
    mutating func field(_ key: String, _ value: Bool?) { emit(key, value.map { $0 ? "true" : "false" } ?? "null") }
    mutating func field(_ key: String, raw value: String) { emit(key, value) }
    mutating func element(_ value: String) { emit(nil, Self.quote(value)) }
    mutating func element(raw value: String) { emit(nil, value) }

    private mutating func open(_ key: String?, _ bracket: String) {
        emit(key, bracket)
        needsComma.append(false)
    }

    private mutating func close(_ bracket: String) {
        needsComma.removeLast()
        text += bracket
    }

    private mutating func emit(_ key: String?, _ value: String) {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
        if let key { text += Self.quote(key) + ":" }
        text += value
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
