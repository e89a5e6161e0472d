import Testing
@testable import QubeMemSystem
import QubeMemSlurm
import QubeMemAudit

@Suite struct AccountingDatabaseTests {
    /// One client row of `AccountingSQL`'s columns, tab-separated as `mariadb --batch` prints it.
    static func clientRow(job: [String: String] = [:], step: [String: String]? = nil) -> String {
        var j = [
            "inx": "7", "id": "2", "arrayJob": "0", "arrayTask": "4294967294", "het": "0", "hetOffset": "4294967294",
            "uid": "0", "state": "3", "requid": "-1", "start": "1000", "end": "1004", "suspended": "0", "nodes": "1",
            "tresAlloc": "1=2,2=400,4=1", "tresReq": "1=2,2=400,4=1", "name": "wrap", "account": "physics",
            "partition": "debug", "comment": "", "admin": "",
        ]
        j.merge(job) { $1 }
        var s = ["id": "", "het": "", "state": "0", "requid": "-1", "start": "0", "end": "0", "suspended": "0",
                 "nodes": "0", "tasks": "0", "tresAlloc": "", "max": "", "tot": "", "name": ""]
        if let step { s = ["het": "4294967294", "state": "3", "requid": "-1", "start": "1000", "end": "1004",
                           "suspended": "0", "nodes": "1", "tasks": "1", "tresAlloc": "1=2"].merging(step) { $1 } }
        let jobKeys = ["inx", "id", "arrayJob", "arrayTask", "het", "hetOffset", "uid", "state", "requid", "start",
                       "end", "suspended", "nodes", "tresAlloc", "tresReq", "name", "account", "partition", "comment", "admin"]
        let stepKeys = ["id", "het", "state", "requid", "start", "end", "suspended", "nodes", "tasks", "tresAlloc",
                        "max", "tot", "name"]
        return (jobKeys.map { j[$0] ?? "" } + stepKeys.map { s[$0] ?? "" } + [j["mask"] ?? ""]).joined(separator: "\t")
    }

    static func convert(_ lines: [String], now: Int64 = 2000) -> (rows: [String], unreadable: Int) {
        var converter = AccountingRows(now: now) { uid in uid == 0 ? "root" : "user\(uid)" }
        var bytes: [UInt8] = []
        var text = lines.joined(separator: "\n") + "\n"
        text.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { bytes.append(contentsOf: $0) } }
        converter.finish { bytes.append(contentsOf: $0) }
        let rows = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        return (rows.dropLast().map(String.init), converter.unreadable)
    }

    @Test func aJobAndItsStepsBecomeSacctRowsInFieldOrder() {
        let rows = Self.convert([
            Self.clientRow(job: ["admin": "qubemem:v1 action=set", "comment": "qube: n_pix=10"],
                           step: ["id": "-5", "name": "batch", "max": "1=130,2=172494848,7=9", "tot": "2=172494848"]),
            Self.clientRow(step: ["id": "0", "name": "true", "max": "2=962560", "tot": "2=962560", "tasks": "4"]),
        ]).rows
        #expect(rows == [
            "2|wrap|root|physics|debug|COMPLETED|4|1||2|400M|||qube: n_pix=10|qubemem:v1 action=set",
            "2.batch|batch||physics||COMPLETED|4|1|1|2||172494848|mem=172494848||",
            "2.0|true||physics||COMPLETED|4|1|4|2||962560|mem=962560||",
        ])
        #expect(rows.allSatisfy { $0.split(separator: "|", omittingEmptySubsequences: false).count == SacctField.allCases.count })
    }

    @Test func arrayTasksHeterogeneousComponentsAndSpecialStepsAreNamedAsSacctNamesThem() {
        let rows = Self.convert([
            Self.clientRow(job: ["inx": "1", "id": "3190", "arrayJob": "394", "arrayTask": "3"], step: ["id": "-4", "name": "extern"]),
            Self.clientRow(job: ["inx": "2", "id": "501", "het": "500", "hetOffset": "1"], step: ["id": "0", "het": "1", "name": "a"]),
            Self.clientRow(job: ["inx": "3", "id": "9"], step: ["id": "-6", "name": "interactive"]),
            Self.clientRow(job: ["inx": "4", "id": "394", "arrayJob": "394", "mask": "0x3F1"]),
        ]).rows.map { $0.prefix { $0 != "|" } }
        #expect(rows == ["394_3", "394_3.extern", "500+1", "500+1.0+1", "9", "9.interactive", "394_[0,4-9]"])
        #expect(AccountingRows.taskRanges(hexMask: "0xF0000000F") == "0-3,32-35")
        #expect(AccountingRows.taskRanges(hexMask: "") == nil)
    }

    @Test func statesElapsedAndMissingFiguresAreWrittenAsSacctWouldMeanThem() {
        let rows = Self.convert([
            // cancelled by uid 1000, suspended 1 s; a step with no usage figures
            Self.clientRow(job: ["inx": "1", "state": "4", "requid": "1000", "suspended": "1"], step: ["id": "-5", "state": "4"]),
            // still running at now=2000: elapsed up to now; OOM with the REQUEUE flag bit set
            Self.clientRow(job: ["inx": "2", "id": "3", "state": "1", "end": "0"]),
            Self.clientRow(job: ["inx": "3", "id": "4", "state": "\(11 | 0x400)", "tresReq": "1=1,2=18446744073709551614"]),
            Self.clientRow(job: ["inx": "4", "id": "5", "state": "99", "start": "0", "end": "0"]),
        ]).rows.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows[0][5] == "CANCELLED by 1000" && rows[0][6] == "3")
        #expect(rows[1][5] == "CANCELLED" && rows[1][11] == "" && rows[1][12] == "")  // the step: no MaxRSS, no TRES
        #expect(rows[2][5] == "RUNNING" && rows[2][6] == "1000")
        #expect(rows[3][5] == "OUT_OF_MEMORY" && rows[3][10] == "")  // NO_VAL64 memory request: none
        #expect(rows[4][5] == "UNKNOWN" && rows[4][6] == "0")
    }

    @Test func clientEscapesAreUndoneAndFreeTextCannotBreakARow() {
        let rows = Self.convert([
            Self.clientRow(job: ["name": "a|b\\tc", "comment": "qube: n_pix=1\\nlmax=2 | x", "admin": "r1; qubemem:v1 a=b"]),
        ]).rows
        #expect(rows == ["2|a?b?c|root|physics|debug|COMPLETED|4|1||2|400M|||qube: n_pix=1 lmax=2 | x|r1; qubemem:v1 a=b"])
    }

    @Test func rowsMayComeInAnyOrderAndEachJobRowIsWrittenOnce() {
        // The database does not sort (ORDER BY would cost it a filesort): two jobs interleaved.
        let rows = Self.convert([
            Self.clientRow(job: ["inx": "1", "id": "10"], step: ["id": "0", "name": "a"]),
            Self.clientRow(job: ["inx": "2", "id": "11"], step: ["id": "-5", "name": "batch"]),
            Self.clientRow(job: ["inx": "1", "id": "10"], step: ["id": "-5", "name": "batch"]),
        ]).rows.map { $0.prefix { $0 != "|" } }
        #expect(rows == ["10", "10.0", "11", "11.batch", "10.batch"])
        var acc = SacctAccumulator()
        acc.feed(Array(Self.convert([
            Self.clientRow(job: ["inx": "1", "id": "10"], step: ["id": "0", "name": "a", "max": "2=5000"]),
            Self.clientRow(job: ["inx": "2", "id": "11"], step: ["id": "-5", "name": "batch", "max": "2=7000"]),
            Self.clientRow(job: ["inx": "1", "id": "10"], step: ["id": "-5", "name": "batch", "max": "2=9000"]),
        ]).rows.map { $0 + "\n" }.joined().utf8))
        acc.finish()
        #expect(acc.malformedCount == 0 && acc.takeFinishedJobs().count == 2)
    }

    @Test func rowsWithTheWrongColumnsAreCountedNotGuessed() {
        let result = Self.convert(["only\tthree\tcolumns", Self.clientRow()])
        #expect(result.unreadable == 1)
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
            var text = Self.clientRow(job: job) + "\n"
            var out: [UInt8] = []
            text.withUTF8 { converter.feed(UnsafeRawBufferPointer($0)) { out.append(contentsOf: $0) } }
            #expect(converter.unreadable == 1 && out.isEmpty, "\(job)")
            #expect(converter.firstUnreadableReason?.contains(why) == true, "\(converter.firstUnreadableReason ?? "nil")")
        }
        // The largest values the columns hold still convert, and the reader takes them.
        let rows = Self.convert([Self.clientRow(job: ["arrayJob": "5", "arrayTask": "4294967293", "nodes": "4294967295",
                                                      "tresAlloc": "1=4294967295"])]).rows
        #expect(rows.first?.hasPrefix("5_4294967293|") == true)
        var acc = SacctAccumulator()
        acc.feed(Array(rows.map { $0 + "\n" }.joined().utf8))
        acc.finish()
        #expect(acc.malformedCount == 0)
    }

    @Test func sacctWindowSelectionIsMirrored() throws {
        var sql = AccountingSQL(cluster: "qubesandbox", start: 100, end: 200)
        let text = try sql.text()
        #expect(text.contains("FROM `qubesandbox_job_table` j"))
        #expect(text.contains("(j.time_eligible <> 0 AND j.time_eligible < 200 AND (j.time_end >= 100 OR j.time_end = 0))"))
        sql.states = [.completed, .running]
        sql.uids = [0, 1000]
        sql.accounts = ["physics"]
        sql.jobs = ["394_3", "500+1", "12"]
        let filtered = try sql.text()
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
        #expect(throws: AccountingSQL.InvalidValue.self) { try sql.text() }
        do { _ = try sql.text() } catch { #expect(error.description.contains("'\(value)'")) }
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
        let db = Self.convert([Self.clientRow(job: ["comment": "qube: n_pix=10"],
                                              step: ["id": "-5", "name": "batch", "max": "2=172494848", "tot": "2=172494848"])])
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
