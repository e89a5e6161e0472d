import Testing
@testable import QubeMemSystem
import QubeMemSlurm
import QubeMemAudit

@Suite struct AccountingDatabaseTests {
    /// A `J` row of `AccountingSQL.jobColumns`, tab-separated as `mariadb --batch` prints it.
    static func jobRow(_ job: [String: String] = [:]) -> String {
        var j = [
            "inx": "7", "id": "2", "arrayJob": "0", "arrayTask": "4294967294", "het": "0", "hetOffset": "4294967294",
            "uid": "0", "state": "3", "requid": "-1", "start": "1000", "end": "1004", "suspended": "0", "nodes": "1",
            "tresAlloc": "1=2,2=400,4=1", "tresReq": "1=2,2=400,4=1", "name": "wrap", "account": "physics",
            "partition": "debug", "comment": "", "admin": "", "mask": "", "submit": "990", "assoc": "0",
        ]
        j.merge(job) { $1 }
        let keys = ["inx", "id", "arrayJob", "arrayTask", "het", "hetOffset", "uid", "state", "requid", "start",
                    "end", "suspended", "nodes", "tresAlloc", "tresReq", "name", "account", "partition", "comment", "admin",
                    "mask", "submit", "assoc"]
        return (["J"] + keys.map { j[$0] ?? "" }).joined(separator: "\t")
    }

    /// An `S` row of `AccountingSQL.stepColumns`, of the record `inx` (7: `jobRow()`'s).
    static func stepRow(_ step: [String: String]) -> String {
        let s = ["inx": "7", "het": "4294967294", "state": "3", "nodes": "1", "tasks": "1", "max": "", "tot": ""]
            .merging(step) { $1 }
        let keys = ["inx", "id", "het", "state", "nodes", "tasks", "max", "tot"]
        return (["S"] + keys.map { s[$0] ?? "" }).joined(separator: "\t")
    }

    /// Converts client rows as `AccountingDatabase.read` does: the `D` and `J` rows (the first
    /// client run), `finishJobs`, then the `S` rows (the second run).
    static func convert(
        _ lines: [String], now: Int64 = 2000, userName: @escaping AccountingRows.UserName = { uid in uid == 0 ? "root" : "user\(uid)" }
    ) -> (rows: [String], unreadable: Int, steps: AccountingRows.StepSelection) {
        var converter = AccountingRows(now: now, userName: userName)
        var bytes: [UInt8] = []
        var first = lines.filter { !$0.hasPrefix("S\t") }.joined(separator: "\n") + "\n"
        first.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { bytes.append(contentsOf: $0) } }
        return finishWithSteps(&converter, &bytes, lines)
    }

    /// The second client run of `convert`: `finishJobs`, then the `S` rows of `lines` as the
    /// command-line client's text; the sacct rows of both runs.
    static func finishWithSteps(
        _ converter: inout AccountingRows, _ bytes: inout [UInt8], _ lines: [String]
    ) -> (rows: [String], unreadable: Int, steps: AccountingRows.StepSelection) {
        converter.finishJobs { bytes.append(contentsOf: $0) }
        let selection = converter.stepSelection
        var second = lines.filter { $0.hasPrefix("S\t") }.joined(separator: "\n")
        second.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { bytes.append(contentsOf: $0) } }
        converter.finish { bytes.append(contentsOf: $0) }
        let rows = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return (rows.dropLast().map(String.init), converter.unreadable, selection)
    }

    @Test func aJobAndItsStepsBecomeSacctRowsInFieldOrder() {
        let rows = Self.convert([
            Self.jobRow(["admin": "qubemem:v1 action=set", "comment": "qube: n_pix=10"]),
            Self.stepRow(["id": "-5", "max": "1=130,2=172494848,7=9", "tot": "2=172494848"]),
            Self.stepRow(["id": "0", "max": "2=962560", "tot": "2=962560", "tasks": "4"]),
        ]).rows
        #expect(rows == [
            "2|wrap|root|physics|debug|COMPLETED|4|1||2|400M|||qube: n_pix=10|qubemem:v1 action=set",
            // A step's name, elapsed time and CPUs are not read by the audit, nor selected.
            "2.batch|||physics||COMPLETED||1|1|||172494848|mem=172494848||",
            "2.0|||physics||COMPLETED||1|4|||962560|mem=962560||",
        ])
        #expect(rows.allSatisfy { $0.split(separator: "|", omittingEmptySubsequences: false).count == SacctField.allCases.count })
    }

    @Test func arrayTasksHeterogeneousComponentsAndSpecialStepsAreNamedAsSacctNamesThem() {
        let rows = Self.convert([
            Self.jobRow(["inx": "1", "id": "3190", "arrayJob": "394", "arrayTask": "3"]),
            Self.jobRow(["inx": "2", "id": "501", "het": "500", "hetOffset": "1"]),
            Self.jobRow(["inx": "3", "id": "9"]),
            Self.jobRow(["inx": "4", "id": "394", "arrayJob": "394", "mask": "0x3F1"]),
            Self.stepRow(["inx": "1", "id": "-4"]),
            Self.stepRow(["inx": "2", "id": "0", "het": "1"]),
            Self.stepRow(["inx": "3", "id": "-6"]),
        ]).rows.map { $0.prefix { $0 != "|" } }
        #expect(rows == ["394_3", "500+1", "9", "394_[0,4-9]", "394_3.extern", "500+1.0+1", "9.interactive"])
        #expect(AccountingRows.taskRanges(hexMask: "0xF0000000F") == "0-3,32-35")
        #expect(AccountingRows.taskRanges(hexMask: "") == nil)
    }

    @Test func statesElapsedAndMissingFiguresAreWrittenAsSacctWouldMeanThem() {
        let rows = Self.convert([
            // cancelled by uid 1000, suspended 1 s; a step with no usage figures
            Self.jobRow(["inx": "1", "state": "4", "requid": "1000", "suspended": "1"]),
            Self.stepRow(["inx": "1", "id": "-5", "state": "4"]),
            // still running at now=2000: elapsed up to now; OOM with the REQUEUE flag bit set
            Self.jobRow(["inx": "2", "id": "3", "state": "1", "end": "0"]),
            Self.jobRow(["inx": "3", "id": "4", "state": "\(11 | 0x400)", "tresReq": "1=1,2=18446744073709551614"]),
            Self.jobRow(["inx": "4", "id": "5", "state": "99", "start": "0", "end": "0"]),
        ]).rows.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows[0][5] == "CANCELLED by 1000" && rows[0][6] == "3")
        #expect(rows[1][5] == "RUNNING" && rows[1][6] == "1000")
        #expect(rows[2][5] == "OUT_OF_MEMORY" && rows[2][10] == "")  // NO_VAL64 memory request: none
        #expect(rows[3][5] == "UNKNOWN" && rows[3][6] == "0")
        #expect(rows[4][5] == "CANCELLED" && rows[4][11] == "" && rows[4][12] == "")  // the step: no MaxRSS, no TRES
    }

    @Test func clientEscapesAreUndoneAndFreeTextCannotBreakARow() {
        let rows = Self.convert([
            Self.jobRow(["name": "a|b\\tc", "comment": "qube: n_pix=1\\nlmax=2 | x", "admin": "r1; qubemem:v1 a=b"]),
        ]).rows
        #expect(rows == ["2|a?b?c|root|physics|debug|COMPLETED|4|1||2|400M|||qube: n_pix=1 lmax=2 | x|r1; qubemem:v1 a=b"])
    }

    /// Converts the same rows as `convert`, handed over as the client library gives them: each
    /// field's stored bytes (the client's escapes undone) with its length, `NULL` as a nil field.
    static func convertLibraryRows(_ lines: [String], now: Int64 = 2000) -> (rows: [String], unreadable: Int, steps: AccountingRows.StepSelection) {
        var converter = AccountingRows(now: now, userName: { uid in uid == 0 ? "root" : "user\(uid)" }, escaped: false)
        var bytes: [UInt8] = []
        func feed(_ line: String) {
            let fields: [[CChar]?] = line.split(separator: "\t", omittingEmptySubsequences: false).map { text in
                if text == "NULL" { return nil }
                var stored: [CChar] = []
                var escape = false
                for b in text.utf8 {
                    if escape {
                        stored.append(CChar(bitPattern: b == UInt8(ascii: "t") ? 9 : b == UInt8(ascii: "n") ? 10 : b == UInt8(ascii: "0") ? 0 : b))
                        escape = false
                    } else if b == UInt8(ascii: "\\") {
                        escape = true
                    } else {
                        stored.append(CChar(bitPattern: b))
                    }
                }
                return stored
            }
            var lengths = fields.map { UInt($0?.count ?? 0) }
            let pointers = fields.map { field -> UnsafeMutablePointer<CChar>? in
                guard let field else { return nil }
                let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(field.count, 1))
                p.initialize(from: field, count: field.count)
                return p
            }
            defer { pointers.forEach { $0?.deallocate() } }
            var row = pointers
            row.withUnsafeMutableBufferPointer { r in
                lengths.withUnsafeMutableBufferPointer { l in
                    converter.feed(row: r.baseAddress!, lengths: l.baseAddress!, count: r.count) { bytes.append(contentsOf: $0) }
                }
            }
        }
        lines.filter { !$0.hasPrefix("S\t") }.forEach(feed)
        converter.finishJobs { bytes.append(contentsOf: $0) }
        let selection = converter.stepSelection
        lines.filter { $0.hasPrefix("S\t") }.forEach(feed)
        converter.finish { bytes.append(contentsOf: $0) }
        let rows = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return (rows.dropLast().map(String.init), converter.unreadable, selection)
    }

    @Test func theClientLibrarysRowsBecomeTheSameSacctRowsAsTheCommandLineClientsText() {
        // Free text with every escape, a literal backslash, NULL, a requeued job's held records
        // (kept with their fields' bounds) and steps in and out of the window.
        let cases: [[String]] = [
            [Self.jobRow(["name": "a|b\\tc\\\\t", "comment": "qube: n_pix=1\\nlmax=2 | x\\0y", "admin": "r1; qubemem:v1 a=b",
                          "account": "NULL"])],
            ["D\t20\t3000",
             Self.jobRow(["inx": "3", "id": "20", "submit": "1000", "state": "7", "name": "first\\trun"]),
             Self.jobRow(["inx": "4", "id": "21", "submit": "1500"]),
             Self.jobRow(["inx": "8", "id": "20", "submit": "2000", "state": "4", "comment": "tab\\there"]),
             Self.stepRow(["inx": "3", "id": "-5", "max": "2=100"]),
             Self.stepRow(["inx": "4", "id": "-5", "max": "2=200"]),
             Self.stepRow(["inx": "8", "id": "0", "max": "2=300", "tasks": "4", "tot": "2=900"])],
            ["J\tnot a row", "S\t7", "X"],
        ]
        for lines in cases {
            let text = Self.convert(lines), library = Self.convertLibraryRows(lines)
            #expect(library.rows == text.rows)
            #expect(library.unreadable == text.unreadable && library.steps == text.steps)
        }
        // The held record written (the newest of job 20 in the window) kept its own fields' bounds:
        // its comment with a tab is one field, the tab made a space.
        #expect(Self.convertLibraryRows(cases[1]).rows.contains { $0.hasPrefix("20|wrap|") && $0.hasSuffix("|tab here|") })
    }

    /// Converts the same rows as `convertLibraryRows`, but the `J` rows as the prepared statement
    /// hands them over (`feed(bound:)`): integers as numbers, a canceller of -1 or NULL as NULL.
    static func convertBoundRows(_ lines: [String], now: Int64 = 2000) -> (rows: [String], unreadable: Int, steps: AccountingRows.StepSelection) {
        var converter = AccountingRows(now: now, userName: { uid in uid == 0 ? "root" : "user\(uid)" }, escaped: false)
        var bytes: [UInt8] = []
        feedFirstRun(&converter, lines) { bytes.append(contentsOf: $0) }
        return finishWithSteps(&converter, &bytes, lines)
    }

    /// The first client run of `lines` as the client library reads it: the `J` rows through the
    /// prepared statement (`feed(bound:)`), the others as text.
    static func feedFirstRun(_ converter: inout AccountingRows, _ lines: [String], emit: (UnsafeRawBufferPointer) -> Void) {
        for line in lines where !line.hasPrefix("S\t") {
            if line.hasPrefix("J\t") {
                feedBound(&converter, line, emit: emit)
            } else {
                var text = line + "\n"
                text.withUTF8 { converter.feed(UnsafeRawBufferPointer($0), emit: emit) }
            }
        }
    }

    /// One `J` row handed over as the prepared statement does: integers as numbers (`-1` or
    /// `NULL`: SQL NULL), the rest as their bytes.
    static func feedBound(_ converter: inout AccountingRows, _ line: String, emit: (UnsafeRawBufferPointer) -> Void) {
        let count = AccountingRows.Job.count
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        let integers = UnsafeMutablePointer<UInt64>.allocate(capacity: count)
        let lengths = UnsafeMutablePointer<UInt>.allocate(capacity: count)
        let nulls = UnsafeMutablePointer<CChar>.allocate(capacity: count)
        let texts = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: count)
        integers.initialize(repeating: 0, count: count)
        lengths.initialize(repeating: 0, count: count)
        nulls.initialize(repeating: 0, count: count)
        texts.initialize(repeating: nil, count: count)
        defer {
            for i in 0..<count { texts[i]?.deallocate() }
            integers.deallocate(); lengths.deallocate(); nulls.deallocate(); texts.deallocate()
        }
        for (i, field) in fields.enumerated() {
            if AccountingRows.Job.integers.contains(i) {
                if field == "-1" || field == "NULL" { nulls[i] = 1 } else { integers[i] = UInt64(field)! }
            } else {
                let stored = Array(field.utf8)
                let p = UnsafeMutableRawPointer.allocate(byteCount: max(stored.count, 1), alignment: 1)
                p.copyMemory(from: stored, byteCount: stored.count)
                texts[i] = p
                lengths[i] = UInt(stored.count)
            }
        }
        converter.feed(bound: BoundRow(integers: integers, lengths: lengths, nulls: nulls, texts: texts), emit: emit)
    }

    @Test func jobRecordsReadAsIntegersBecomeTheSameSacctRowsAsTheirText() {
        // Cancellers known and unknown, an array task and a heterogeneous component, a running
        // job, and a requeued job whose held record (kept with its integers) is written at the end.
        let cases: [[String]] = [
            [Self.jobRow(["state": "4", "requid": "1001"]), Self.jobRow(["inx": "9", "id": "3", "state": "4"])],
            [Self.jobRow(["arrayJob": "40", "arrayTask": "5"]), Self.jobRow(["inx": "9", "het": "50", "hetOffset": "1"]),
             Self.jobRow(["inx": "10", "id": "4", "state": "1", "end": "0"])],
            ["D\t20\t3000",
             Self.jobRow(["inx": "3", "id": "20", "submit": "1000", "state": "7", "start": "1100", "end": "1900"]),
             Self.jobRow(["inx": "4", "id": "21", "submit": "1500"]),
             Self.jobRow(["inx": "8", "id": "20", "submit": "2000", "state": "4", "requid": "7"]),
             Self.jobRow(["inx": "9", "id": "22", "submit": "2500", "start": "1200"]),
             Self.stepRow(["inx": "3", "id": "-5", "max": "2=100"]),
             Self.stepRow(["inx": "4", "id": "-5", "max": "2=200"])],
            // An id wider than its column cannot come from the database; it is still refused.
            [Self.jobRow(["nodes": "4294967296"])],
        ]
        for lines in cases {
            let text = Self.convert(lines), bound = Self.convertBoundRows(lines)
            #expect(bound.rows == text.rows)
            #expect(bound.unreadable == text.unreadable && bound.steps == text.steps)
        }
        #expect(Self.convertBoundRows(cases[0]).rows.first?.contains("|CANCELLED by 1001|") == true)
        // Job 20's newest record (submit 3000) is not in the window: of its two held ones, the
        // newer is written at the end, with its own canceller.
        #expect(Self.convertBoundRows(cases[2]).rows.filter { $0.hasPrefix("20|") }.map { $0.contains("|CANCELLED by 7|") } == [true])
        #expect(Self.convertBoundRows(cases[3]).unreadable == 1)
    }

    /// The audit's summary of `lines` read as the client library reads them, the job records
    /// handed over as sacct rows or, with `figures`, as `JobRecordFigures` (`AccountingRows.onJob`):
    /// the summary's jobs, its row counts and malformed rows, and the records handed as figures.
    static func summarize(_ lines: [String], figures: Bool) -> (jobs: String, rows: Int, malformed: String, handed: Int, refused: String) {
        final class Audit { var acc = SacctAccumulator(keeping: .summary); var handed = 0 }
        let audit = Audit()
        var converter = AccountingRows(now: 2000, userName: { "user\($0)" }, escaped: false)
        if figures {
            converter.onJob = { job in
                audit.handed += 1
                audit.acc.addJob(key: job.key, state: job.state, elapsedSeconds: job.elapsedSeconds, nodes: job.nodes,
                                 cpus: job.cpus, requested: job.requested, comment: job.comment, adminComment: job.adminComment)
            }
        }
        feedFirstRun(&converter, lines) { audit.acc.feed($0) }
        converter.finishJobs { audit.acc.feed($0) }
        var steps = lines.filter { $0.hasPrefix("S\t") }.joined(separator: "\n")
        steps.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { audit.acc.feed($0) } }
        converter.finish { audit.acc.feed($0) }
        audit.acc.finish()
        let malformed = String(describing: audit.acc.malformed)
        let rows = audit.acc.rows
        let refused = "\(converter.unreadable) \(converter.firstUnreadable ?? "") \(converter.firstUnreadableReason ?? "")"
        return (String(describing: audit.acc.takeSummary()), rows, malformed, audit.handed, refused)
    }

    @Test func jobRecordsHandedAsFiguresMakeTheSameSummaryAsTheirSacctRows() {
        let record = "qubemem:v1 action=set model=1.3 path=harmonic peak_bytes=1000 baseline_bytes=500 slack=1.15 request_mib=400 user_mib=none"
        let lines = [
            "D\t30\t3000",
            Self.jobRow(["inx": "1", "id": "10", "admin": record, "comment": "qube: n_pix=10"]),
            Self.jobRow(["inx": "2", "id": "11", "comment": "qube: path=harmonic lmax=64"]),  // no record: the comment kept
            Self.jobRow(["inx": "3", "id": "12", "admin": "qubemem:v1 action=warn reason=x"]),
            Self.jobRow(["inx": "4", "id": "13", "admin": "qubemem:v2 something"]),  // unreadable record
            Self.jobRow(["inx": "5", "arrayJob": "40", "arrayTask": "5", "admin": record]),
            Self.jobRow(["inx": "6", "het": "50", "hetOffset": "1", "state": "11", "tresReq": ""]),  // OOM, no ReqMem
            Self.jobRow(["inx": "7", "id": "14", "state": "1", "end": "0"]),  // running: skipped
            Self.jobRow(["inx": "8", "id": "15", "state": "99"]),  // a state this release does not name
            Self.jobRow(["inx": "9", "id": "16", "state": "4", "requid": "1001", "suspended": "2"]),
            Self.jobRow(["inx": "10", "id": "17", "tresReq": "1=1,2=18446744073709551000"]),  // too large for bytes
            Self.jobRow(["inx": "11", "id": "18", "admin": "tool|" + record]),  // a '|': split as sacct's row
            Self.jobRow(["inx": "12", "id": "19", "comment": "a\u{7}bell"]),  // a control character
            Self.jobRow(["inx": "13", "arrayJob": "60", "mask": "0x3F0"]),  // a pending array's record
            Self.jobRow(["inx": "14", "id": "16"]),  // a second record rendering as job 16
            Self.jobRow(["inx": "15", "id": "30", "submit": "1000", "admin": record]),  // requeued: held, then written
            Self.jobRow(["inx": "16", "id": "31", "start": "0", "end": "0", "state": "4"]),  // cancelled before its start
            Self.jobRow(["inx": "17", "id": "32", "nodes": "2", "tresAlloc": "1=8,2=800", "admin": record]),  // ReqMem per job, 2 nodes
            Self.jobRow(["inx": "18", "id": "33", "nodes": "4294967296", "admin": record]),  // refused: not the database's
            Self.stepRow(["inx": "1", "id": "-5", "max": "2=900", "tot": "2=900"]),
            Self.stepRow(["inx": "5", "id": "0", "max": "2=700", "tot": "2=1400", "tasks": "2"]),
            Self.stepRow(["inx": "6", "id": "0", "state": "11", "max": "2=300"]),
            Self.stepRow(["inx": "11", "id": "-5", "max": "2=100"]),
            Self.stepRow(["inx": "13", "id": "-5", "max": "2=100"]),
            Self.stepRow(["inx": "15", "id": "-5", "max": "2=2000"]),
        ]
        let text = Self.summarize(lines, figures: false), figures = Self.summarize(lines, figures: true)
        #expect(figures.jobs == text.jobs)
        #expect(figures.rows == text.rows && figures.malformed == text.malformed)
        #expect(figures.refused == text.refused && text.refused.hasPrefix("1 J\t") && text.refused.hasSuffix("j.nodes_alloc '4294967296' is not an unsigned 32-bit number"))
        // All but the four written as rows (a '|', a control character, a pending array, a
        // requested memory too large for bytes).
        #expect(figures.handed == 13 && text.handed == 0)
        #expect(text.malformed.contains("State 'UNKNOWN'") && text.malformed.contains("second allocation row for job 16"))
        #expect(text.malformed.contains("ReqMem '"))
    }

    @Test func aJobsUserIsItsAssociationsAndADeletedUsersIsEmptyAsSacctPrintsThem() {
        // Association 2 is root's in account "physics"; association 3 an account's own (no user).
        let associations = ["A\t2\troot\tphysics", "A\t3\t\tchem", "A\t4\tal|ice\tbio"]
        let rows = Self.convert(associations + [
            Self.jobRow(["inx": "1", "id": "1", "uid": "0", "assoc": "2"]),
            Self.jobRow(["inx": "2", "id": "2", "uid": "1001", "assoc": "3", "account": ""]),  // no account: the association's
            Self.jobRow(["inx": "3", "id": "3", "uid": "1001", "assoc": "0"]),  // association gone: the uid's name
            Self.jobRow(["inx": "4", "id": "4", "uid": "1002", "assoc": "9"]),  // and a uid the system does not know
            Self.jobRow(["inx": "5", "id": "5", "uid": "0", "assoc": "4", "account": ""]),
            Self.stepRow(["inx": "2", "id": "-5", "max": "2=1"]),
        ]) { uid in uid == 0 ? "root" : uid == 1001 ? "user1001" : "" }
        let fields = rows.rows.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(fields.map { $0[2] + "/" + $0[3] } == ["root/physics", "/chem", "user1001/physics", "/physics", "al?ice/bio", "/chem"])
        #expect(rows.unreadable == 0)
        #expect(Self.convert(["A\t2\troot", "A\tx\troot\tphysics"]).unreadable == 2)
    }

    @Test func rowsMayComeInAnyOrderAndStepsFindTheirJobByRecord() {
        // A scan may use an index (a narrow window, --user): records then come in any order.
        let lines = [
            Self.jobRow(["inx": "12", "id": "11"]),
            Self.jobRow(["inx": "5", "id": "10", "account": "chem"]),
            Self.jobRow(["inx": "30", "id": "12"]),
            Self.stepRow(["inx": "30", "id": "-5", "max": "2=3000"]),
            Self.stepRow(["inx": "5", "id": "0", "max": "2=5000"]),
            Self.stepRow(["inx": "12", "id": "-5", "max": "2=7000"]),
            Self.stepRow(["inx": "5", "id": "-5", "max": "2=9000"]),
            Self.stepRow(["inx": "6", "id": "-5", "max": "2=1"]),  // no such job record: dropped
        ]
        let result = Self.convert(lines)
        #expect(result.rows.map { $0.prefix { $0 != "|" } } == ["11", "10", "12", "12.batch", "10.0", "11.batch", "10.batch"])
        #expect(result.rows[4].contains("|chem|") && result.unreadable == 0)
        #expect(result.steps == .records([5, 12, 30]))
        // Any order of the rows gives the same jobs to the audit.
        var reference: String?
        for order in [[0, 1, 2, 3, 4, 5, 6, 7], [2, 1, 0, 7, 6, 5, 4, 3], [1, 2, 0, 5, 3, 7, 4, 6]] {
            var acc = SacctAccumulator()
            acc.feed(Array(Self.convert(order.map { lines[$0] }).rows.map { $0 + "\n" }.joined().utf8))
            acc.finish()
            #expect(acc.malformedCount == 0)
            let jobs = acc.takeFinishedJobs().sorted { $0.key < $1.key }
            #expect(jobs.map(\.key.description) == ["10", "11", "12"])
            #expect(jobs.map(\.peakBytes) == [9000, 7000, 3000])
            let text = String(describing: jobs.map { job in var j = job; j.line = 0; return j })
            if reference == nil { reference = text }
            #expect(text == reference)
        }
    }

    @Test func aRequeuedJobIsItsNewestRecordInTheWindowAsSacctShowsIt() {
        // Job 20 ran three times (records 3, 8, 9); job 21 once. `D` rows name the jobs with several
        // records and the newest one's submit time.
        let requeued = "D\t20\t3000"
        let records = [
            Self.jobRow(["inx": "3", "id": "20", "submit": "1000", "state": "7"]),  // NODE_FAIL, requeued
            Self.jobRow(["inx": "4", "id": "21", "submit": "1500"]),
            Self.jobRow(["inx": "8", "id": "20", "submit": "2000", "state": "4"]),
            Self.jobRow(["inx": "9", "id": "20", "submit": "3000", "state": "3"]),
            Self.stepRow(["inx": "3", "id": "-5", "max": "2=100"]),
            Self.stepRow(["inx": "4", "id": "-5", "max": "2=200"]),
            Self.stepRow(["inx": "8", "id": "-5", "max": "2=300"]),
            Self.stepRow(["inx": "9", "id": "-5", "max": "2=400"]),
        ]
        func ids(_ lines: [String]) -> [String] {
            Self.convert(lines).rows.map { row in
                let f = row.split(separator: "|", omittingEmptySubsequences: false)
                return f[0] + " " + f[5] + (f[11].isEmpty ? "" : " " + f[11])
            }
        }
        // The newest record in the window: only it, and only its steps.
        #expect(ids([requeued] + records) == ["21 COMPLETED", "20 COMPLETED", "21.batch COMPLETED 200", "20.batch COMPLETED 400"])
        // In any order of the records.
        #expect(ids([requeued, records[3], records[1], records[2], records[0]] + records[4...])
            == ["20 COMPLETED", "21 COMPLETED", "21.batch COMPLETED 200", "20.batch COMPLETED 400"])
        // The newest record outside the window (deleted, or submitted after --end): the newest of
        // those in it, written after the others.
        #expect(ids([requeued, records[0], records[1], records[2]] + records[4...])
            == ["21 COMPLETED", "20 CANCELLED", "21.batch COMPLETED 200", "20.batch COMPLETED 300"])
        // No D row (the table holds one record of each job): every record is its own job.
        #expect(ids([records[1], records[3]]) == ["21 COMPLETED", "20 COMPLETED"])
    }

    @Test func theTablesEstimatedRowsAreHandedOnBeforeAnyJob() throws {
        var converter = AccountingRows(now: 0) { _ in "root" }
        var estimates: [Int] = []
        converter.onEstimate = { estimates.append($0) }
        var text = "N\t12345\n" + Self.jobRow() + "\n"
        var rows = 0
        text.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { _ in rows += 1 } }
        #expect(estimates == [24690] && rows == 1 && converter.unreadable == 0)
        let query = AccountingSQL(cluster: "qubesandbox", start: 0, end: 1)
        let statements = try query.jobStatements()
        #expect(statements.count == 4)
        #expect(statements[0] == "SELECT 'N', IFNULL(MAX(TABLE_ROWS), 0) FROM information_schema.TABLES"
            + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'qubesandbox_job_table'")
        #expect(statements[1].hasPrefix("SELECT 'A', id_assoc,") && statements[2].hasPrefix("SELECT 'D', id_job, MAX(time_submit)"))
        #expect(try query.jobsText() == statements.joined(separator: "; "))
    }

    @Test func plainFreeTextIsFoundEightBytesAtATimeAsByteByByte() {
        for escaped in [false, true] {
            let rows = AccountingRows(now: 0, userName: { _ in "" }, escaped: escaped)
            func plain(_ bytes: [UInt8]) -> Bool {
                bytes.allSatisfy { $0 >= 0x20 && $0 != 0x7F && $0 != 0x7C && !(escaped && $0 == 0x5C) }
            }
            // Every byte value at every place of texts of 1 to 19 bytes (an odd one in a word, in
            // the tail, after a multi-byte character), and next to the bytes that border it.
            for length in 1...19 {
                for place in 0..<length {
                    for value in 0...255 {
                        var text = [UInt8](repeating: UInt8(ascii: "q"), count: length)
                        if length > 2 { text[(place + 1) % length] = 0xC3 }
                        text[place] = UInt8(value)
                        let found = text.withUnsafeBufferPointer { rows.isPlainFreeText($0) }
                        #expect(found == plain(text), "\(text) escaped: \(escaped)")
                        if found != plain(text) { return }
                    }
                }
            }
            #expect(rows.isPlainFreeText(UnsafeBufferPointer(start: nil, count: 0)))
        }
    }

    @Test func theRequeuedIdsSplitInTwoHalvesThatTogetherAreTheWholeStatement() throws {
        let query = AccountingSQL(cluster: "qubesandbox", start: 0, end: 1)
        let whole = try #require(query.jobStatements().first(where: AccountingSQL.isRequeued))
        let halves = try query.requeuedHalves(splitAt: 500)
        let head = "SELECT 'D', id_job, MAX(time_submit) FROM `qubesandbox_job_table`"
        #expect(whole == head + " GROUP BY id_job HAVING COUNT(*) > 1")
        #expect(halves == [head + " WHERE id_job < 500 GROUP BY id_job HAVING COUNT(*) > 1",
                           head + " WHERE id_job >= 500 GROUP BY id_job HAVING COUNT(*) > 1"])
        #expect(try query.idRangeStatement() == "SELECT 'M', MIN(id_job), MAX(id_job) FROM `qubesandbox_job_table`")
        #expect(throws: AccountingSQL.InvalidValue.self) { try AccountingSQL(cluster: "x`y", start: 0, end: 1).requeuedHalves(splitAt: 1) }
        #expect(throws: AccountingSQL.InvalidValue.self) { try AccountingSQL(cluster: "x y", start: 0, end: 1).idRangeStatement() }
    }

    @Test func everyStoredStateNumberReadsBackAsItsStateFlagsAside() {
        for state in AccountingSQL.selectableStates {
            let number = UInt64(AccountingSQL.stateNumber(state) ?? -1)
            #expect(AccountingSQL.state(number: number) == state)
            #expect(AccountingSQL.state(number: number | 0x8000) == state)  // JOB_REQUEUE and other flags
        }
        #expect(AccountingSQL.state(number: 12) == nil && AccountingSQL.state(number: 255) == nil)
    }

    @Test func thePreparedJobStatementSelectsTextsBareAndTheSameRowsAsTheText() throws {
        var query = AccountingSQL(cluster: "qubesandbox", start: 0, end: 1)
        for summaryOnly in [false, true] {
            query.summaryOnly = summaryOnly
            let text = try query.jobStatements(), bound = try query.jobStatements(boundRecords: true)
            #expect(Array(bound.dropLast()) == Array(text.dropLast()))
            guard let records = bound.last, let textRecords = text.last else { continue }
            // No IFNULL for the server to evaluate: a NULL text arrives as empty (BoundRow.text).
            #expect(!records.contains("IFNULL"))
            #expect(records.contains("j.admin_comment, j.array_task_str") && records.contains("j.tres_alloc, j.tres_req"))
            // The same rows: only the columns differ.
            #expect(records.split(separator: " FROM ", maxSplits: 1)[1] == textRecords.split(separator: " FROM ", maxSplits: 1)[1])
        }
        #expect(AccountingSQL.withoutIfNull("IFNULL(j.derived_es,'')") == "j.derived_es")
        #expect(AccountingSQL.withoutIfNull("IFNULL(j.kill_requid,-1)") == "IFNULL(j.kill_requid,-1)")
    }

    @Test func aSummaryOnlyReadSelectsNoNamesAndNoAssociationsAndKeepsTheColumnsInPlace() throws {
        var query = AccountingSQL(cluster: "qubesandbox", start: 0, end: 1)
        query.uids = [1001]
        let whole = try query.jobStatements()
        query.summaryOnly = true
        let summary = try query.jobStatements()
        #expect(summary == [whole[0], whole[2], summary[2]])
        #expect(!summary.contains { $0.hasPrefix("SELECT 'A'") })
        let columns = AccountingSQL.summaryJobColumns
        #expect(columns.count == AccountingRows.Job.count)
        for (index, column) in columns.enumerated() {
            switch column {
            case "0", "-1", "''":
                let job = AccountingRows.Job.self
                #expect([job.user, job.association, job.cancelledBy, job.name, job.account, job.partition].contains(index))
            default:
                #expect(column == AccountingSQL.jobColumns[index])
            }
        }
        #expect(summary[2].hasPrefix("SELECT " + columns.joined(separator: ", ") + " FROM `qubesandbox_job_table` j WHERE"))
        // The filter still reads the user: only what is selected changed.
        #expect(summary[2].contains("j.id_user IN (1001)") && whole[3].hasSuffix(summary[2].split(separator: " FROM ", maxSplits: 1)[1]))
        // The constants read as a job without name, account, partition or canceller (uid 0's
        // name is looked up once, and the summary does not keep it).
        var converter = AccountingRows(now: 2000) { _ in "" }
        var row = "J\t7\t77\t0\t4294967294\t0\t4294967294\t0\t4\t-1\t1000\t1600\t0\t1\t1=2,2=100\t1=2,2=100\t\t\t\t"
            + "qube: path=harmonic\t\t\t990\t0\n"
        var out: [UInt8] = []
        row.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { out.append(contentsOf: $0) } }
        #expect(converter.unreadable == 0)
        #expect(String(decoding: out, as: UTF8.self) == "77|||||CANCELLED|600|1||2|100M|||qube: path=harmonic|\n")
    }

    @Test func manyJobsAskForARangeOfStepsAndNoJobForNone() throws {
        let many = (1...1001).map { Self.jobRow(["inx": "\($0 + 100)", "id": "\($0)"]) }
        #expect(Self.convert(many).steps == .range(101, 1101))
        #expect(Self.convert([]).steps == AccountingRows.StepSelection.none)
        var sql = AccountingSQL(cluster: "qubesandbox", start: 100, end: 200)
        #expect(try sql.stepsText(.range(101, 1101)) == "SELECT " + AccountingSQL.stepColumns.joined(separator: ", ")
            + " FROM `qubesandbox_step_table` s WHERE s.deleted = 0 AND s.job_db_inx BETWEEN 101 AND 1101")
        #expect(try sql.stepsText(.records([5, 12]))?.hasSuffix("s.job_db_inx IN (5,12)") == true)
        #expect(try sql.stepsText(.none) == nil)
        sql.cluster = "a b"
        #expect(throws: AccountingSQL.InvalidValue.self) { try sql.stepsText(.records([1])) }
    }

    @Test func rowsWithTheWrongColumnsAreCountedNotGuessed() {
        let result = Self.convert(["only\tthree\tcolumns", "J\t1\t2", "S\t7", Self.jobRow()])
        #expect(result.unreadable == 3)
        #expect(result.rows.count == 1)
    }

    @Test func idsAndCountsWiderThanTheirColumnsAreRefusedNotWrittenForTheReaderToRefuse() {
        // Found by the dbrows fuzz target: such values wrapped or passed through, and the sacct
        // reader then refused the row it was given.
        for (job, why) in [(["arrayJob": "5", "arrayTask": "8612933377076028302"], "j.id_array_task '8612933377076028302'"),
                           (["nodes": "3566131579936950044"], "j.nodes_alloc '3566131579936950044'"),
                           (["uid": "4294967296"], "j.id_user '4294967296'"),
                           (["tresAlloc": "1=4294967296"], "CPU count 4294967296")] {
            var converter = AccountingRows(now: 2000) { _ in "root" }
            var text = Self.jobRow(job) + "\n"
            var out: [UInt8] = []
            text.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { out.append(contentsOf: $0) } }
            #expect(converter.unreadable == 1 && out.isEmpty, "\(job)")
            #expect(converter.firstUnreadableReason?.contains(why) == true, "\(converter.firstUnreadableReason ?? "nil")")
        }
        // The largest values the columns hold still convert, and the reader takes them.
        let rows = Self.convert([Self.jobRow(["arrayJob": "5", "arrayTask": "4294967293", "nodes": "4294967295",
                                                      "tresAlloc": "1=4294967295"])]).rows
        #expect(rows.first?.hasPrefix("5_4294967293|") == true)
        var acc = SacctAccumulator()
        acc.feed(Array(rows.map { $0 + "\n" }.joined().utf8))
        acc.finish()
        #expect(acc.malformedCount == 0)
    }

    @Test func sacctWindowSelectionIsMirrored() throws {
        var sql = AccountingSQL(cluster: "qubesandbox", start: 100, end: 200)
        let text = try sql.jobsText()
        #expect(text.contains("FROM `qubesandbox_job_table` j"))
        #expect(text.contains("(j.time_eligible <> 0 AND j.time_eligible < 200 AND (j.time_end >= 100 OR j.time_end = 0))"))
        sql.states = [.completed, .running]
        sql.uids = [0, 1000]
        sql.accounts = ["physics"]
        sql.jobs = ["394_3", "500+1", "12"]
        let filtered = try sql.jobsText()
        #expect(filtered.contains("(j.state = 3 AND (j.time_end <> 0 AND j.time_end BETWEEN 100 AND 200))"))
        #expect(filtered.contains("(j.state = 1 AND (j.time_start <> 0 AND"))
        #expect(filtered.contains("j.id_user IN (0,1000)"))
        #expect(filtered.contains("j.account IN ('physics')"))
        #expect(filtered.contains("(j.id_array_job = 394 AND j.id_array_task = 3)"))
        #expect(filtered.contains("(j.het_job_id = 500 AND j.het_job_offset = 1)"))
        #expect(filtered.contains("(j.id_job = 12 OR j.id_array_job = 12 OR j.het_job_id = 12)"))
    }

    @Test(arguments: [
        ("cluster", "x`; DROP TABLE y; --"), ("account", "a' OR '1'='1"), ("partition", "p q"), ("job", "12; SELECT"),
        ("job", "12_"), ("state", "REVOKED"),
    ])
    func valuesThatAreNotPlainAreRefusedAndQuoted(_ what: String, _ value: String) {
        var sql = AccountingSQL(cluster: "c", start: 0, end: 1)
        switch what {
        case "cluster": sql.cluster = value
        case "account": sql.accounts = [value]
        case "partition": sql.partitions = [value]
        case "job": sql.jobs = [value]
        default: sql.states = [JobState(rawValue: value)!]
        }
        #expect(throws: AccountingSQL.InvalidValue.self) { try sql.jobsText() }
        do { _ = try sql.jobsText() } catch { #expect(error.description.contains("'\(value)'")) }
    }

    @Test func slurmdbdConfGivesTheConnectionAndSlurmConfTheCluster() throws {
        let settings = try SlurmdbdSettings.parse(slurmdbdConf: """
            # slurmdbd.conf
            DbdPort=6819
            StorageType=accounting_storage/mysql
            storagehost = 127.0.0.1   # trailing comment
            StoragePort=13306
            StorageUser=slurm
            StoragePass=s3cr=t
            StorageLoc=slurm_acct_db
            """).get()
        #expect(settings.host == "127.0.0.1" && settings.port == 13306 && settings.user == "slurm")
        #expect(settings.password == "s3cr=t" && settings.database == "slurm_acct_db")
        #expect(SlurmdbdSettings.clusterName(slurmConf: "SlurmctldHost=vm\nClusterName=QubeSandbox\n") == "qubesandbox")
        #expect(SlurmdbdSettings.clusterName(slurmConf: "#ClusterName=x\n") == nil)
        let bad = SlurmdbdSettings.parse(slurmdbdConf: "StoragePort=99999\n")
        #expect(throws: SlurmdbdSettings.ParseError.self) { try bad.get() }
        let badLoc = SlurmdbdSettings.parse(slurmdbdConf: "StorageLoc=a;b\n")
        #expect(throws: SlurmdbdSettings.ParseError.self) { try badLoc.get() }
    }

    @Test func convertedRowsReadLikeSacctsOwn() {
        // The same job as sacct prints it and as the database gives it: the accumulator must see
        // the same figures.
        let sacct = """
            2|wrap|root|physics|debug|COMPLETED|4|1||2|400M|||qube: n_pix=10|
            2.batch|batch||physics||COMPLETED|4|1|1|2||172494848|cpu=00:00:00,energy=0,fs/disk=1357421,mem=172494848,pages=0,vmem=176918528||

            """
        let db = Self.convert([Self.jobRow(["comment": "qube: n_pix=10"]),
                               Self.stepRow(["id": "-5", "max": "2=172494848", "tot": "2=172494848"])])
            .rows.map { $0 + "\n" }.joined()
        var a = SacctAccumulator(), b = SacctAccumulator()
        a.feed(Array(sacct.utf8))
        b.feed(Array(db.utf8))
        a.finish()
        b.finish()
        let ja = a.takeFinishedJobs(), jb = b.takeFinishedJobs()
        #expect(ja.count == 1 && jb.count == 1)
        #expect(a.malformedCount == 0 && b.malformedCount == 0)
        #expect(String(describing: ja) == String(describing: jb))
    }
}
