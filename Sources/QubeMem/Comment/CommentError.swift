// Why a `qube:` section was refused, and the quoting of its untrusted bytes in the message.

/// Why a `qube:` section could not be read. Every message quotes the offending text.
public enum CommentError: Error, Sendable, Equatable, CustomStringConvertible {
    case emptySection
    case notAPair(token: String)
    case unknownKey(token: String)
    case duplicateKey(key: String)
    case badValue(key: String, value: String, valid: String)
    case tooManyPairs(limit: Int)
    case tokenTooLong(token: String, limit: Int)

    public var description: String {
        let keys = QubeComment.Key.allCases.map(\.name).joined(separator: ", ")
        return switch self {
        case .emptySection:
            "'qube:' has no key=value pairs after it; write for example 'qube: fields=QU n_obs=4900 lmax=128'"
        case let .notAPair(token):
            "'\(token)' is not a key=value pair; the qube: section takes key=value pairs separated by spaces"
        case let .unknownKey(token):
            "unknown key in '\(token)'; valid keys are \(keys)"
        case let .duplicateKey(key):
            "key '\(key)' is given more than once; give each key at most once"
        case let .badValue(key, value, valid):
            "invalid value '\(value)' for \(key); valid: \(valid)"
        case let .tooManyPairs(limit):
            "the qube: section has more than \(limit) pairs"
        case let .tokenTooLong(token, limit):
            "'\(token)' is longer than \(limit) bytes"
        }
    }
}

extension QubeComment {
    /// Quotes untrusted bytes for a message: printable ASCII as is, anything else as `\xNN`,
    /// cut at 64 bytes.
    static func quote(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        var out = ""
        let hex: [Character] = Array("0123456789abcdef")
        for (n, b) in bytes.enumerated() {
            if n == 64 { out += "…"; break }
            if b >= 0x20, b < 0x7F, b != UInt8(ascii: "\\") {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                out += "\\x"
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}
