import Foundation
import QubeMem

/// A sweep's grid: named columns, one row of values per run.
struct SweepGrid: Equatable {
    var columns: [String]
    var rows: [[String: String]]

    /// Reads a CSV file (a header line, then one line per row; fields may be "quoted") or a JSON
    /// file (an array of objects whose values are strings, numbers or booleans).
    static func load(path: String) throws -> SweepGrid {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SweepError.unreadable(path)
        }
        let text = String(decoding: data, as: UTF8.self)
        let first = text.first { !$0.isWhitespace }
        return first == "[" ? try parseJSON(data, path: path) : try parseCSV(text, path: path)
    }

    static func parseJSON(_ data: Data, path: String) throws -> SweepGrid {
        guard let array = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
            throw SweepError.badGrid(path, "expected a JSON array of objects")
        }
        var columns: [String] = []
        var rows: [[String: String]] = []
        for (i, object) in array.enumerated() {
            var row: [String: String] = [:]
            for key in object.keys.sorted() {
                let value = object[key]
                switch value {
                case let s as String: row[key] = s
                case let n as NSNumber:
                    // JSON true/false come back as NSNumber too; their Objective-C type is "c".
                    row[key] = String(cString: n.objCType) == "c" ? (n.boolValue ? "yes" : "no") : n.stringValue
                default: throw SweepError.badGrid(path, "row \(i + 1): value of '\(key)' is not a string, number or boolean")
                }
                if !columns.contains(key) { columns.append(key) }
            }
            rows.append(row)
        }
        return SweepGrid(columns: columns, rows: rows)
    }

    static func parseCSV(_ text: String, path: String) throws -> SweepGrid {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.hasPrefix("#") }
        guard let header = lines.first else { throw SweepError.badGrid(path, "empty file") }
        let columns = splitCSV(header).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !columns.contains(where: \.isEmpty), Set(columns).count == columns.count else {
            throw SweepError.badGrid(path, "the header must name every column once")
        }
        var rows: [[String: String]] = []
        for (i, line) in lines.dropFirst().enumerated() {
            let values = splitCSV(line)
            guard values.count == columns.count else {
                throw SweepError.badGrid(path, "row \(i + 1) has \(values.count) values for \(columns.count) columns")
            }
            rows.append(Dictionary(uniqueKeysWithValues: zip(columns, values.map { $0.trimmingCharacters(in: .whitespaces) })))
        }
        return SweepGrid(columns: columns, rows: rows)
    }

    /// Splits one CSV line on commas outside double quotes ("" is a quote inside quotes).
    static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { current.append("\""); chars.removeFirst() } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }

    /// Replaces every `{column}` in `template` with the row's value.
    /// - Throws: `SweepError.unknownPlaceholder` for a `{name}` that is not a column.
    static func substitute(_ template: String, row: [String: String]) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { out += rest[open...]; return out }
            let name = String(rest[rest.index(after: open)..<close])
            guard let value = row[name] else { throw SweepError.unknownPlaceholder(name) }
            out += value
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// The `qube:` comment for a row: from `template` when given, else from the row's columns
    /// that are keys of the comment grammar; nil when there are none.
    static func comment(for row: [String: String], template: String?) throws -> String? {
        if let template { return try substitute(template, row: row) }
        let keys = QubeComment.Key.allCases.map(\.name)
        let pairs = keys.compactMap { key in row[key].map { "\(key)=\($0)" } }
        return pairs.isEmpty ? nil : "qube: " + pairs.joined(separator: " ")
    }
}

/// Problems with a sweep's inputs.
enum SweepError: Error, CustomStringConvertible {
    case unreadable(String)
    case badGrid(String, String)
    case unknownPlaceholder(String)

    var description: String {
        switch self {
        case .unreadable(let p): return "cannot read the grid file '\(p)'"
        case .badGrid(let p, let why): return "bad grid file '\(p)': \(why)"
        case .unknownPlaceholder(let n): return "the template names '{\(n)}', which is not a column of the grid"
        }
    }
}
