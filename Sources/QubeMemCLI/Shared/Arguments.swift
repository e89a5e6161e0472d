public import ArgumentParser
public import QubeMem

extension ModelVersion: ExpressibleByArgument {
    public init?(argument: String) {
        guard let model = ModelVersion.parse(argument) else { return nil }
        self = model
    }

    public static var allValueStrings: [String] { ["1.0", "1.2", "1.3", "latest", "1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.3.0"] }
}

extension PathChoice: ExpressibleByArgument {}

extension FieldSet: ExpressibleByArgument {
    public init?(argument: String) {
        guard let fields = FieldSet.parse(argument) else { return nil }
        self = fields
    }

    public static var defaultCompletionKind: CompletionKind { .list(["T", "QU", "TQU"]) }
}

extension Slack: ExpressibleByArgument {
    public init?(argument: String) {
        guard let slack = Slack.parse(argument) else { return nil }
        self = slack
    }
}

/// A sky fraction in (0, 1], held in millionths.
struct SkyFraction: ExpressibleByArgument {
    var millionths: Int

    init?(argument: String) {
        guard let m = QubeComment.parseMillionths(argument), m > 0, m <= 1_000_000 else { return nil }
        millionths = m
    }
}

/// A memory size: bytes, or a number with a K, M, G or T suffix (binary units).
struct MemorySize: ExpressibleByArgument, CustomStringConvertible {
    var bytes: UInt64

    init(bytes: UInt64) { self.bytes = bytes }

    init?(argument: String) {
        var text = Substring(argument)
        var shift: UInt64 = 0
        switch text.last {
        case "K", "k": shift = 10
        case "M", "m": shift = 20
        case "G", "g": shift = 30
        case "T", "t": shift = 40
        default: break
        }
        if shift > 0 { text = text.dropLast() }
        guard let millionths = QubeComment.parseMillionths(String(text)) else { return nil }
        let (scaled, o) = UInt64(millionths).multipliedReportingOverflow(by: 1 << shift)
        guard !o else { return nil }
        bytes = (scaled + 999_999) / 1_000_000
    }

    var description: String { Units.gib(bytes) }
}
