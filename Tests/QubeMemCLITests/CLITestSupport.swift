import Foundation
@testable import QubeMemCLI

/// Collects what a command writes, in place of the process's streams.
final class OutputSink: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = ""
    private var errText = ""

    var out: String { lock.withLock { outText } }
    var err: String { lock.withLock { errText } }

    var context: CommandContext {
        CommandContext(
            out: { s in self.lock.withLock { self.outText += s } },
            err: { s in self.lock.withLock { self.errText += s } })
    }
}

/// The example command lines in a command's help discussion, with continuation lines joined and
/// shell quoting removed; each without the leading `qubemem SUBCOMMAND`.
func helpExamples(_ discussion: String, subcommand: String) -> [[String]] {
    var commands: [String] = []
    var current: String?
    for raw in discussion.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if current == nil, line.hasPrefix("qubemem \(subcommand)") {
            current = line
        } else if current != nil {
            current! += " " + line
        }
        if let c = current, !c.hasSuffix("\\") {
            commands.append(c)
            current = nil
        } else if current != nil {
            current!.removeLast()
        }
    }
    return commands.map { shellWords($0).dropFirst(2).map { $0 } }
}

/// Splits a command line on spaces, honouring double quotes.
func shellWords(_ line: String) -> [String] {
    var words: [String] = []
    var word = ""
    var quoted = false
    var inWord = false
    for ch in line {
        if ch == "\"" { quoted.toggle(); inWord = true; continue }
        if ch == " ", !quoted {
            if inWord { words.append(word); word = ""; inWord = false }
            continue
        }
        word.append(ch)
        inWord = true
    }
    if inWord { words.append(word) }
    return words
}

/// Compares `text` with the snapshot file `Snapshots/NAME`; with RECORD_SNAPSHOTS=1 in the
/// environment, writes it instead.
/// - Returns: `nil` when equal (or recorded), else a description of the difference.
func snapshotMismatch(_ text: String, named name: String, filePath: String = #filePath) -> String? {
    let url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        .appendingPathComponent("Snapshots").appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
        try? text.write(to: url, atomically: true, encoding: .utf8)
        return nil
    }
    guard let recorded = try? String(contentsOf: url, encoding: .utf8) else {
        return "no snapshot \(name); run the tests with RECORD_SNAPSHOTS=1 to record it"
    }
    if recorded == text { return nil }
    let a = recorded.split(separator: "\n", omittingEmptySubsequences: false)
    let b = text.split(separator: "\n", omittingEmptySubsequences: false)
    for i in 0..<max(a.count, b.count) where i >= a.count || i >= b.count || a[i] != b[i] {
        return "\(name) differs at line \(i + 1):\n  recorded: \(i < a.count ? String(a[i]) : "<end>")\n  now:      \(i < b.count ? String(b[i]) : "<end>")"
    }
    return "\(name) differs"
}
