import Foundation
public import QubeMem
import Yams

/// A QUBE YAML run configuration (`qube-fisher-run CONFIG.yaml`), read as QUBE 1.3 reads it:
/// `yaml.safe_load` into cosmocore's `InputParams`, whose defaults fill what the file leaves out.
///
/// Only the keys that set memory are interpreted; every other key QUBE knows is accepted and
/// ignored. A key QUBE does not know is ignored by QUBE too, silently: here it is a warning
/// naming the nearest key QUBE knows, since a misspelt `lmax_signa` changes the run's memory.
public struct QubeConfigFile: Sendable {
    /// The config file as given.
    public var path: String
    /// The memory-relevant settings, with QUBE's defaults (no mask counts yet).
    public var config: QubeRunConfig
    /// `maskfile`, as written (QUBE opens it relative to the working directory).
    public var maskfile: String
    /// Keys QUBE ignores, each with the nearest key it knows.
    public var warnings: [String]
    /// `nsims`, when given (maps held by Spectra runs; not priced).
    public var nsims: Int?

    /// Every key cosmocore's `InputParams` has: what QUBE reads from a config (1.3.0).
    public static let knownKeys: [String] = [
        "apply_pixwin", "auto_idxs", "beam_file", "bin_lmaxs", "bin_lmins", "calibration", "covmatfile1",
        "covmatfile2", "cross_idxs", "delta_ell", "do_cross", "feedback", "fiducialfile", "fwhmarcmin",
        "input_convention", "inputclfile", "inputmapfile1", "inputmapfile2", "labels", "lmax", "lmax_signal",
        "lmin", "lmin_signal", "load_inverted", "load_reduced", "log_file", "log_format", "log_timing",
        "maskfile", "nfields", "npix", "nside", "nsims", "nspectra", "ordering", "outcovmatfile", "outerrfile",
        "outfilefisher", "outinvcovmatfile1", "outinvcovmatfile2", "outnoisecovmat1", "outnoisecovmat2",
        "output_convention", "output_geometry_file", "parameters", "physical_labels", "remove_nb", "root_dir",
        "root_filename", "smoothing_type", "spins",
    ]

    /// Reads and interprets a config file.
    /// - Throws: `InputError` naming the file: unreadable, not YAML, or a key of the wrong type.
    public static func read(path: String) throws(InputError) -> QubeConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, why: FileManager.default.fileExists(atPath: path)
                              ? "it is not readable UTF-8 text" : "no such file")
        }
        return try parse(text, path: path)
    }

    /// Interprets a config's text.
    public static func parse(_ text: String, path: String) throws(InputError) -> QubeConfigFile {
        if let excess = ConfigShapeLimits.check(text) {
            throw .notYAML(path: path, why: excess.description)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw .notYAML(path: path, why: Self.describe(error))
        }
        guard let root, case let .mapping(mapping) = root else {
            throw .notYAML(path: path, why: "the top level is not a mapping of keys to values (such as 'nside: 16')")
        }
        var file = QubeConfigFile(path: path, config: QubeRunConfig(), maskfile: "inputs/mask.fits", warnings: [])
        var c = QubeRunConfig()
        var labelsGiven = false
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            let reader = ValueReader(path: path, key: key, node: value)
            switch key {
            case "nside": c.nside = try reader.int()
            case "spins": c.spins = try reader.intList()
            case "labels":
                c.labelCount = try reader.labelCount()
                labelsGiven = true
            case "lmin": c.lmin = try reader.int()
            case "lmax":
                if !reader.isNull { c.lmax = try reader.int() }
            case "lmax_signal": c.lmaxSignal = reader.isNull ? nil : try reader.int()
            case "lmin_signal":
                let values = try reader.intOrList()
                c.lminSignal = values.min() ?? 2
            case "delta_ell": c.deltaEll = try reader.int()
            case "bin_lmins": c.binLmins = reader.isNull ? nil : try reader.intList()
            case "bin_lmaxs": c.binLmaxs = reader.isNull ? nil : try reader.intList()
            case "do_cross": c.doCross = try reader.bool()
            case "load_reduced": c.loadReduced = try reader.bool()
            case "maskfile": file.maskfile = try reader.string()
            case "nsims": file.nsims = reader.isNull ? nil : try reader.int()
            default:
                if !knownKeys.contains(key) {
                    let near = nearestKey(to: key)
                    file.warnings.append("'\(path)', line \(value.mark.map { $0.line } ?? 0): unknown key '\(key)' is ignored by QUBE\(near.map { "; did you mean '\($0)'?" } ?? "")")
                }
            }
        }
        if !labelsGiven {
            c.labelCount = 3  // InputParams' default labels: T, E, B
        }
        file.config = c
        return file
    }

    /// The known key closest to `key` by edit distance, if it is close enough to be a misspelling.
    public static func nearestKey(to key: String) -> String? {
        let lowered = Array(key.lowercased().utf8)
        let allowed = max(2, key.count / 3)
        var best: (String, Int)? = nil
        for candidate in knownKeys {
            // The distance is at least the difference in length: skip what cannot be close enough.
            guard abs(lowered.count - candidate.utf8.count) <= allowed else { continue }
            let d = editDistance(lowered, Array(candidate.utf8))
            if d < best?.1 ?? Int.max { best = (candidate, d) }
        }
        guard let best else { return nil }
        return best.1 <= allowed ? best.0 : nil
    }

    /// Levenshtein distance over bytes, in two rows reused for every byte of `a`.
    private static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var previous = Array(0...b.count)
        var current = previous
        for (i, x) in a.enumerated() {
            current[0] = i + 1
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private static func describe(_ error: any Error) -> String {
        if let y = error as? YamlError {
            switch y {
            case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
                return "\(problem) at line \(mark.line), column \(mark.column)"
            case let .duplicatedKeysInMapping(duplicates, _):
                let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
                return "\(keys) given more than once (QUBE would silently take the last); keep one"
            default:
                return "\(y)"
            }
        }
        return "\(error)"
    }
}

/// Reads one value of a config with the type QUBE expects, as `yaml.safe_load` would give it.
private struct ValueReader {
    var path: String
    var key: String
    var node: Node

    var isNull: Bool { node.tag.rawValue == Tag.Name.null.rawValue }

    func fail(_ expected: String) -> InputError {
        let shown: String
        switch node {
        case let .scalar(s): shown = s.string
        case .sequence: shown = "a list"
        case .mapping: shown = "a mapping"
        case .alias: shown = "an alias"
        }
        return .wrongType(path: path, key: key, line: node.mark?.line, value: shown, expected: expected)
    }

    func int() throws(InputError) -> Int {
        guard node.tag.rawValue == Tag.Name.int.rawValue, let text = node.scalar?.string else { throw fail("a whole number") }
        guard let n = YAMLInteger.value(of: text) else { throw fail("a whole number from \(Int.min) to \(Int.max)") }
        return n
    }

    func bool() throws(InputError) -> Bool {
        guard node.tag.rawValue == Tag.Name.bool.rawValue, let b = node.bool else { throw fail("true or false") }
        return b
    }

    func string() throws(InputError) -> String {
        guard node.tag.rawValue == Tag.Name.str.rawValue, let s = node.string else { throw fail("a file name") }
        return s
    }

    func intList() throws(InputError) -> [Int] {
        guard case .sequence = node else { throw fail("a list of whole numbers, such as [0, 2]") }
        var out: [Int] = []
        for item in node.array() {
            guard item.tag.rawValue == Tag.Name.int.rawValue, item.scalar != nil else {
                throw fail("a list of whole numbers, such as [0, 2]")
            }
            // The item's own reader: a number out of range is quoted alone, not as "a list".
            out.append(try ValueReader(path: path, key: key, node: item).int())
        }
        return out
    }

    func intOrList() throws(InputError) -> [Int] {
        if case .sequence = node { return try intList() }
        return [try int()]
    }

    /// The number of labels after QUBE's expansion: "QU" → Q, U; "T1_T2" → T1, T2. A plain
    /// string (not a list) is not expanded by QUBE, and counts one label per character.
    func labelCount() throws(InputError) -> Int {
        if node.tag.rawValue == Tag.Name.str.rawValue, let s = node.string { return s.count }
        guard case .sequence = node else { throw fail("a list of labels, such as [\"T\", \"E\", \"B\"]") }
        var count = 0
        for item in node.array() {
            guard let label = item.string, item.tag.rawValue == Tag.Name.str.rawValue else {
                throw fail("a list of labels, such as [\"T\", \"E\", \"B\"]")
            }
            if label.contains("_") {
                count += label.split(separator: "_", omittingEmptySubsequences: false).count
            } else if label.count > 1, label.allSatisfy({ "TQUEBI".contains($0) }) {
                count += label.count
            } else {
                count += 1
            }
        }
        return count
    }
}
