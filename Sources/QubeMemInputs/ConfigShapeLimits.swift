/// Limits on a QUBE config's shape, checked on its text before libyaml and Yams parse it: shapes
/// no QUBE config has, on which parsing takes seconds to hours for a few hundred bytes.
///
/// - Flow nesting (`[ ]`, `{ }`): libyaml's scanner rescans every open level at each token, so its
///   time grows with the square of the depth (7.5 KB of nested `{a: ` took 60 ms, against 1 ms for
///   a real config). QUBE's configs use one level (`spins: [0, 2]`).
/// - Aliases (`*name`): each one copies its anchor's node, so ten levels of nine aliases make 9^9
///   nodes from 555 bytes; Yams hashes a mapping key to find duplicates, and one such key took
///   over 20 s (found by the yaml fuzz target). QUBE's configs use none. With at most 16 aliases a
///   text expands to at most a few hundred nodes.
///
/// The scan counts brackets and alias indicators outside quoted scalars and comments. A bracket
/// inside a plain scalar counts too, and so does a `*` that starts a line of a block scalar: a
/// config can be refused for those only with more than 64 unmatched brackets or 16 such lines.
public enum ConfigShapeLimits {
    /// The deepest flow nesting accepted.
    public static let maxFlowDepth = 64
    /// The most alias references accepted.
    public static let maxAliases = 16

    /// What a config's text has too much of.
    public enum Excess: Equatable, Sendable, CustomStringConvertible {
        /// Flow collections nested this deep (the first depth past the limit).
        case flowDepth(Int)
        /// This many alias references (the first count past the limit).
        case aliases(Int)

        public var description: String {
            switch self {
            case let .flowDepth(depth):
                "it nests [ ] or { } \(depth) levels deep; a QUBE config needs at most 2, and this reader stops at \(ConfigShapeLimits.maxFlowDepth)"
            case let .aliases(count):
                "it uses \(count) or more YAML aliases (*name); a QUBE config needs none, and this reader stops at \(ConfigShapeLimits.maxAliases) (each alias copies its anchor's node, so a few can expand to billions)"
            }
        }
    }

    /// The first limit the text exceeds, or nil.
    public static func check(_ text: String) -> Excess? {
        var depth = 0, aliases = 0
        var quote: UInt8? = nil
        var comment = false
        var previous: UInt8 = 0x0A
        /// The last byte on the line that is not a space or tab (a newline at the line's start).
        var lastSignificant: UInt8 = 0x0A
        for byte in text.utf8 {
            defer {
                previous = byte
                if byte != 0x20 && byte != 0x09 { lastSignificant = byte }
            }
            if comment {
                if byte == 0x0A || byte == 0x0D { comment = false }
                continue
            }
            if let open = quote {
                if byte == open { quote = nil }  // '' inside '...' closes and reopens: same count
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
            case UInt8(ascii: "#") where previous == 0x20 || previous == 0x09 || previous == 0x0A || previous == 0x0D:
                comment = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxFlowDepth { return .flowDepth(depth) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
            case UInt8(ascii: "*"):
                // An alias starts a node: at a line's start or after an indicator. A `*` inside a
                // plain scalar (`a*b`, `x *y`) follows other text.
                switch lastSignificant {
                case 0x0A, 0x0D, UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: ","), UInt8(ascii: ":"),
                     UInt8(ascii: "-"), UInt8(ascii: "?"):
                    aliases += 1
                    if aliases > maxAliases { return .aliases(aliases) }
                default: break
                }
            default: break
            }
        }
        return nil
    }
}
