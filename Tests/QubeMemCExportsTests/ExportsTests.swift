import CQubeMemABI
import Glibc
import QubeMem
import Testing

@testable import QubeMemCExports

/// Output buffers for one call, with guard bytes after each capacity to catch overruns.
final class ResultBuffers {
    static let guardByte: CChar = 0x5A
    static let guardCount = 32
    var message: [CChar]
    var record: [CChar]
    var log: [CChar]
    var configLog: [CChar]
    var comment: [CChar]
    let capacity: UInt32

    init(capacity: UInt32 = 1024) {
        self.capacity = capacity
        let size = Int(capacity) + Self.guardCount
        message = Array(repeating: Self.guardByte, count: size)
        record = message
        log = message
        configLog = message
        comment = message
    }

    /// Calls qubemem_v1_job_submit with these buffers.
    func submit(_ job: qubemem_v1_job) -> (status: Int32, result: qubemem_v1_result) {
        var job = job
        var result = qubemem_v1_result()
        let status = message.withUnsafeMutableBufferPointer { m in
            record.withUnsafeMutableBufferPointer { r in
                log.withUnsafeMutableBufferPointer { l in
                    configLog.withUnsafeMutableBufferPointer { c in
                      comment.withUnsafeMutableBufferPointer { k in
                        result.message = m.baseAddress
                        result.message_capacity = capacity
                        result.record = r.baseAddress
                        result.record_capacity = capacity
                        result.log = l.baseAddress
                        result.log_capacity = capacity
                        result.config_log = c.baseAddress
                        result.config_log_capacity = capacity
                        result.comment = k.baseAddress
                        result.comment_capacity = capacity
                        let status = qubemem_v1_job_submit(&job, &result)
                        result.message = nil
                        result.record = nil
                        result.log = nil
                        result.config_log = nil
                        result.comment = nil
                        return status
                      }
                    }
                }
            }
        }
        return (status, result)
    }

    var guardsIntact: Bool {
        [message, record, log, configLog, comment].allSatisfy { buffer in
            buffer[Int(capacity)...].allSatisfy { $0 == Self.guardByte }
        }
    }

    static func text(_ buffer: [CChar]) -> String {
        buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    var messageText: String { Self.text(message) }
    var recordText: String { Self.text(record) }
    var logText: String { Self.text(log) }
    var configLogText: String { Self.text(configLog) }
    var commentText: String { Self.text(comment) }
}

/// A job as the shim builds it; the comment's storage is kept alive by the caller.
func makeJob(_ comment: UnsafePointer<CChar>?, memory: UInt64 = QUBEMEM_NO_VAL64) -> qubemem_v1_job {
    qubemem_v1_job(
        comment: comment, pn_min_memory: memory, min_cpus: QUBEMEM_NO_VAL, min_nodes: QUBEMEM_NO_VAL,
        num_tasks: QUBEMEM_NO_VAL, cpus_per_task: QUBEMEM_NO_VAL16, ntasks_per_node: QUBEMEM_NO_VAL16,
        submit_uid: 1000, is_modify: 0)
}

/// A scratch directory for config files, removed at deinit.
final class ScratchDirectory {
    let path: String
    init() {
        var template = Array("/tmp/qubemem-exports-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = made.map { String(cString: $0) } ?? "/tmp"
    }
    deinit { _ = system("rm -rf '\(path)'") }

    func write(_ name: String, _ text: String) {
        let final = path + "/" + name
        let temp = final + ".tmp"
        let file = fopen(temp, "w")
        _ = text.withCString { fputs($0, file) }
        fclose(file)
        rename(temp, final)  // a new inode, as an editor or install(1) would make
    }
}

/// Configures the plugin with `path` and returns the init log line.
@discardableResult
func configure(_ path: String) -> (Int32, String) {
    var log = [CChar](repeating: 0, count: Int(QUBEMEM_V1_LOG_CAPACITY))
    let level = path.withCString { qubemem_v1_configure($0, nil, &log, UInt32(log.count)) }
    return (level, log.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
}

/// The suite shares the plugin's global configuration, so it runs serially.
@Suite(.serialized) struct ExportsTests {
    static let pixel = "qube: path=pixel_direct n_pix=3008 lmax=32 fields=QU"

    static func expectedMiB(_ comment: String, _ config: SiteConfig = SiteConfig()) throws -> UInt64 {
        let spec = try #require(QubeComment.parse(comment)).get()
        return try Predictor.predict(spec, policy: config.policy).get().requestMiB
    }

    @Test func nullPointersFailWithoutTouchingAnything() {
        #expect(qubemem_v1_job_submit(nil, nil) == Int32(QUBEMEM_V1_FAILED))
        let buffers = ResultBuffers()
        var result = qubemem_v1_result()
        let status = buffers.log.withUnsafeMutableBufferPointer { log -> Int32 in
            result.log = log.baseAddress
            result.log_capacity = buffers.capacity
            return qubemem_v1_job_submit(nil, &result)
        }
        #expect(status == Int32(QUBEMEM_V1_FAILED))
        #expect(buffers.logText.contains("no job"))
        #expect(result.log_level == Int32(QUBEMEM_V1_LOG_ERROR))
    }

    @Test func nullAndForeignCommentsPassUntouched() {
        let scratch = ScratchDirectory()
        configure(scratch.path + "/qubemem.conf")
        for comment in [nil, "", "nothing for us", "qubes: no"] as [String?] {
            let buffers = ResultBuffers()
            let (status, result) = comment.withOptionalCString { buffers.submit(makeJob($0, memory: 4000)) }
            #expect(status == Int32(QUBEMEM_V1_PASS))
            #expect(result.pn_min_memory == QUBEMEM_NO_VAL64)
            #expect(buffers.messageText.isEmpty && buffers.recordText.isEmpty && buffers.logText.isEmpty)
            #expect(buffers.guardsIntact)
        }
    }

    @Test func validCommentSetsMemoryAndWritesEveryOutput() throws {
        let scratch = ScratchDirectory()
        let (level, line) = configure(scratch.path + "/qubemem.conf")
        #expect(level == Int32(QUBEMEM_V1_LOG_INFO))
        #expect(line.contains("no file, using the defaults"))
        let expected = try Self.expectedMiB(Self.pixel)
        let buffers = ResultBuffers()
        let (status, result) = Self.pixel.withCString { buffers.submit(makeJob($0)) }
        #expect(status == Int32(QUBEMEM_V1_SET))
        #expect(result.pn_min_memory == expected)
        #expect(buffers.messageText.contains("memory set to \(expected) MiB per node"))
        #expect(buffers.recordText.hasPrefix("qubemem:v1 action=set model=1.3 path=pixel_direct"))
        #expect(buffers.recordText.hasSuffix("request_mib=\(expected) user_mib=none"))
        #expect(buffers.logText.hasPrefix("qubemem: job_submit: uid=1000 action=set"))
        #expect(result.log_level == Int32(QUBEMEM_V1_LOG_VERBOSE))  // routine: AdminComment has it
        #expect(buffers.commentText == Self.pixel + "; " + buffers.recordText)
        #expect(buffers.guardsIntact)
    }

    @Test func commentRecordCopyFollowsTheConfigAndSkipsRefusals() throws {
        let scratch = ScratchDirectory()
        scratch.write("qubemem.conf", "comment_record = no\n")
        configure(scratch.path + "/qubemem.conf")
        var buffers = ResultBuffers()
        _ = Self.pixel.withCString { buffers.submit(makeJob($0)) }
        #expect(!buffers.recordText.isEmpty && buffers.commentText.isEmpty)

        scratch.write("qubemem.conf", "comment_record = yes\n")
        buffers = ResultBuffers()
        // A user's own "copy" is replaced by the decision's; newlines of the user's text stay.
        let forged = "qube: path=pixel_direct\nn_pix=3008 lmax=32 fields=QU; qubemem:v1 action=set model=1.3 request_mib=1"
        _ = forged.withCString { buffers.submit(makeJob($0)) }
        #expect(buffers.commentText == "qube: path=pixel_direct\nn_pix=3008 lmax=32 fields=QU; " + buffers.recordText)

        buffers = ResultBuffers()
        let (status, _) = "qube: n_pix=-1".withCString { buffers.submit(makeJob($0)) }
        #expect(status == Int32(QUBEMEM_V1_REJECT_COMMENT) && buffers.commentText.isEmpty)
        #expect(buffers.guardsIntact)
    }

    /// Comments written by `qubemem predict --qube-config --comment` (cross runs, the full-sky
    /// covariance read, per-field pixels as n_pix) are priced by the plugin exactly as predict does.
    @Test(arguments: [
        "qube: path=pixel_direct fields=TQU nside=8 n_pix=848 lmax_signal=32 lmax=32 n_bins=31 cov_read=full",
        "qube: path=pixel_direct fields=QU n_obs=864 nside=16 lmax_signal=64 lmax=32 n_bins=31 cross=yes cov_read=reduced",
        "qube: path=harmonic fields=QU n_obs=864 nside=16 lmax_signal=64 lmax=32 n_bins=31 cov_read=full",
    ])
    func configCommentsArePricedAsPredictPricesThem(comment: String) throws {
        let scratch = ScratchDirectory()
        _ = configure(scratch.path + "/qubemem.conf")
        let expected = try Self.expectedMiB(comment)
        let buffers = ResultBuffers()
        let (status, result) = comment.withCString { buffers.submit(makeJob($0)) }
        #expect(status == Int32(QUBEMEM_V1_SET))
        #expect(result.pn_min_memory == expected)
        #expect(buffers.guardsIntact)
    }

    @Test func memoryEncodingsAreDecoded() throws {
        let scratch = ScratchDirectory()
        scratch.write("qubemem.conf", "user_memory = larger\n")
        configure(scratch.path + "/qubemem.conf")
        let expected = try Self.expectedMiB(Self.pixel)
        let cases: [(UInt64, Int32, String)] = [
            (QUBEMEM_NO_VAL64, Int32(QUBEMEM_V1_SET), "user_mib=none"),
            (UInt64.max, Int32(QUBEMEM_V1_SET), "user_mib=none"),
            (100, Int32(QUBEMEM_V1_SET), "user_mib=100"),
            (expected + 1, Int32(QUBEMEM_V1_PASS), "action=kept_larger"),
            (0, Int32(QUBEMEM_V1_PASS), "user_mib=0"),
            (QUBEMEM_MEM_PER_CPU | 10, Int32(QUBEMEM_V1_SET), "user_mib=10"),
            (QUBEMEM_MEM_PER_CPU | (1 << 62), Int32(QUBEMEM_V1_PASS), "action=kept_larger"),
        ]
        for (memory, status, mentions) in cases {
            let buffers = ResultBuffers()
            let (got, result) = Self.pixel.withCString { buffers.submit(makeJob($0, memory: memory)) }
            #expect(got == status, "memory \(memory)")
            #expect(buffers.recordText.contains(mentions), "memory \(memory): \(buffers.recordText)")
            if status == Int32(QUBEMEM_V1_SET) { #expect(result.pn_min_memory == expected) }
            #expect(result.pn_min_memory & QUBEMEM_MEM_PER_CPU == 0 || result.pn_min_memory == QUBEMEM_NO_VAL64)
            #expect(buffers.guardsIntact)
        }
    }

    @Test func theJobsTaskLayoutPricesItsBusiestNode() throws {
        let scratch = ScratchDirectory()
        configure(scratch.path + "/qubemem.conf")
        let spec = try #require(QubeComment.parse(Self.pixel)).get()
        // (num_tasks, min_nodes, ntasks_per_node, cpus_per_task) as the shim copies them.
        let cases: [(UInt32, UInt32, UInt16, UInt16, TaskLayout)] = [
            (QUBEMEM_NO_VAL, QUBEMEM_NO_VAL, QUBEMEM_NO_VAL16, QUBEMEM_NO_VAL16, .singleRank),
            (8, 2, QUBEMEM_NO_VAL16, QUBEMEM_NO_VAL16, TaskLayout(tasks: 8, nodes: 2)),
            (7, 2, QUBEMEM_NO_VAL16, 1, TaskLayout(tasks: 7, nodes: 2, cpusPerTask: 1)),
            (QUBEMEM_NO_VAL, 1, 3, QUBEMEM_NO_VAL16, TaskLayout(nodes: 1, tasksPerNode: 3)),
            (8, QUBEMEM_NO_VAL, QUBEMEM_NO_VAL16, 2, TaskLayout(tasks: 8, cpusPerTask: 2)),
            (0, 0, 0, 0, .singleRank),
        ]
        for (tasks, nodes, perNode, cpus, layout) in cases {
            var job = makeJob(nil)
            (job.num_tasks, job.min_nodes, job.ntasks_per_node, job.cpus_per_task) = (tasks, nodes, perNode, cpus)
            #expect(JobFields.layout(job) == layout)
            let expected = try Predictor.predict(spec, policy: SiteConfig().policy, layout: layout).get().node
            let buffers = ResultBuffers()
            let (status, result) = Self.pixel.withCString { comment -> (Int32, qubemem_v1_result) in
                job.comment = comment
                return buffers.submit(job)
            }
            #expect(status == Int32(QUBEMEM_V1_SET))
            if expected.perCPU {
                #expect(result.pn_min_memory == expected.requestMiB | QUBEMEM_MEM_PER_CPU, "\(layout)")
                #expect(buffers.messageText.contains("\(expected.requestMiB) MiB per CPU"))
                #expect(buffers.recordText.contains("mem_per_cpu=yes"))
            } else {
                #expect(result.pn_min_memory == expected.requestMiB, "\(layout)")
                #expect(buffers.recordText.contains("ranks_per_node") == layout.isMultiRank)
            }
            #expect(buffers.guardsIntact)
        }
    }

    @Test func perCPURequestsCountTheCPUsPerNode() {
        var job = makeJob(nil, memory: QUBEMEM_MEM_PER_CPU | 1000)
        #expect(JobFields.userMemory(job) == .perCPU(mib: 1000, cpusPerNode: 1))
        job.ntasks_per_node = 4
        job.cpus_per_task = 2
        #expect(JobFields.cpusPerNode(job) == 8)
        job.ntasks_per_node = QUBEMEM_NO_VAL16
        job.min_cpus = 10
        job.min_nodes = 3
        #expect(JobFields.cpusPerNode(job) == 4)
        job.min_nodes = QUBEMEM_NO_VAL
        #expect(JobFields.cpusPerNode(job) == 10)
        job.ntasks_per_node = UInt16.max - 1
        job.cpus_per_task = UInt16.max - 2
        #expect(JobFields.cpusPerNode(job) == 10)  // NO_VAL16 ntasks_per_node: not given
        job.ntasks_per_node = UInt16.max
        #expect(JobFields.cpusPerNode(job) == UInt64(UInt16.max) * UInt64(UInt16.max - 2))
    }

    @Test(arguments: [UInt32(0), 1, 2, 3, 4, 5, 17, 40])
    func tinyBuffersAreNeverOverrun(_ capacity: UInt32) {
        let scratch = ScratchDirectory()
        configure(scratch.path + "/qubemem.conf")
        let buffers = ResultBuffers(capacity: capacity)
        let comment = "qube: n_pix=" + String(repeating: "é", count: 40)
        let (status, _) = comment.withCString { buffers.submit(makeJob($0)) }
        #expect(status == Int32(QUBEMEM_V1_REJECT_COMMENT))
        #expect(buffers.guardsIntact)
        if capacity > 0 {
            let message = buffers.messageText
            #expect(message.utf8.count <= Int(capacity) - 1)
            #expect(!message.contains("\u{FFFD}"))  // never cut inside a character
        }
    }

    @Test func hostileCommentsNeverEscapeTheirBuffers() {
        let scratch = ScratchDirectory()
        configure(scratch.path + "/qubemem.conf")
        let comments = [
            "qube: %s%n%x%n%p lmax=%n", "qube: n_pix=$(reboot);`id`", "qube:", "qube: n_pix=1099511627776",
            "qube: n_pix=" + String(repeating: "9", count: 65_536), "qube: " + String(repeating: "a=b ", count: 20_000),
            "qube: n_pix=3\u{7}\u{1B}[31m\nlmax=3",
        ]
        for comment in comments {
            let buffers = ResultBuffers()
            let (status, _) = comment.withCString { buffers.submit(makeJob($0)) }
            #expect(status == Int32(QUBEMEM_V1_REJECT_COMMENT), "\(comment.prefix(40))")
            #expect(buffers.guardsIntact)
            for text in [buffers.messageText, buffers.logText] {
                #expect(!text.utf8.contains { $0 < 0x20 || $0 == 0x7F })
            }
        }
        // Raw non-UTF-8 bytes.
        var raw: [CChar] = Array("qube: n_pix=".utf8CString.dropLast()) + [-1, -2, 0x41, 0]
        let buffers = ResultBuffers()
        let (status, _) = raw.withUnsafeMutableBufferPointer { buffers.submit(makeJob($0.baseAddress)) }
        #expect(status == Int32(QUBEMEM_V1_REJECT_COMMENT))
        #expect(buffers.guardsIntact)
    }

    @Test func configChangesApplyOnTheNextSubmissionAndBrokenOnesKeepTheLastGood() throws {
        let scratch = ScratchDirectory()
        let path = scratch.path + "/qubemem.conf"
        scratch.write("qubemem.conf", "slack = 1.15\n")
        configure(path)
        let base = try Self.expectedMiB(Self.pixel)

        func submit() -> (Int32, ResultBuffers, UInt64) {
            let buffers = ResultBuffers()
            let (status, result) = Self.pixel.withCString { buffers.submit(makeJob($0)) }
            return (status, buffers, result.pn_min_memory)
        }
        var (status, buffers, mib) = submit()
        #expect(status == Int32(QUBEMEM_V1_SET) && mib == base)
        #expect(buffers.configLogText.isEmpty)  // unchanged file: not read again

        var config = SiteConfig()
        config.policy.slack = try #require(Slack.parse("2"))
        scratch.write("qubemem.conf", "slack = 2\n")
        (status, buffers, mib) = submit()
        #expect(mib == (try Self.expectedMiB(Self.pixel, config)))
        #expect(buffers.configLogText.contains("loaded"))

        scratch.write("qubemem.conf", "slack = 2\nturbo = yes\n")
        (status, buffers, mib) = submit()
        #expect(status == Int32(QUBEMEM_V1_SET))
        #expect(mib == (try Self.expectedMiB(Self.pixel, config)))  // the last good config
        #expect(buffers.configLogText.contains("line 2: unknown key 'turbo'"))
        #expect(buffers.configLogText.contains("keeping the last good configuration"))

        scratch.write("qubemem.conf", "max_request = 10\n")
        (status, buffers, _) = submit()
        #expect(status == Int32(QUBEMEM_V1_REJECT_MEMORY))
        #expect(buffers.messageText.contains("10 MiB"))

        unlink(path)
        (status, buffers, mib) = submit()
        #expect(status == Int32(QUBEMEM_V1_SET) && mib == base)
        #expect(buffers.configLogText.contains("no file, using the defaults"))
    }

    @Test func aBrokenFirstConfigPassesJobsThrough() {
        let scratch = ScratchDirectory()
        scratch.write("qubemem.conf", "slack = fast\n")
        let (level, line) = configure(scratch.path + "/qubemem.conf")
        #expect(level == Int32(QUBEMEM_V1_LOG_ERROR))
        #expect(line.contains("line 1: the value 'fast' is invalid for 'slack'"))
        #expect(line.contains("passing every job through untouched"))
        let buffers = ResultBuffers()
        let (status, _) = Self.pixel.withCString { buffers.submit(makeJob($0)) }
        #expect(status == Int32(QUBEMEM_V1_PASS))
        #expect(buffers.recordText.isEmpty && buffers.messageText.isEmpty)
    }

    @Test func disabledConfigPassesEverything() {
        let scratch = ScratchDirectory()
        scratch.write("qubemem.conf", "enabled = no\n")
        configure(scratch.path + "/qubemem.conf")
        let buffers = ResultBuffers()
        let (status, _) = "qube: n_pix=-1".withCString { buffers.submit(makeJob($0)) }
        #expect(status == Int32(QUBEMEM_V1_PASS))
        #expect(buffers.messageText.isEmpty)
    }

    @Test func configPathDefaultsBesideSlurmConf() {
        #expect(ConfigLocation.resolve(explicit: nil, environment: nil, slurmConf: "/etc/slurm/slurm.conf")
            == "/etc/slurm/qubemem.conf")
        #expect(ConfigLocation.resolve(explicit: nil, environment: "/opt/q.conf", slurmConf: "/etc/slurm/slurm.conf")
            == "/opt/q.conf")
        #expect(ConfigLocation.resolve(explicit: "/x.conf", environment: "/opt/q.conf", slurmConf: nil) == "/x.conf")
        #expect(ConfigLocation.resolve(explicit: nil, environment: "", slurmConf: nil) == "/etc/slurm/qubemem.conf")
    }

    @Test(arguments: [
        ("123", UInt32(123)), ("4294967293", UInt32(4_294_967_293)), ("4294967294", QUBEMEM_NO_VAL),
        ("99999999999", QUBEMEM_NO_VAL), ("12_3", QUBEMEM_NO_VAL), ("12+0", QUBEMEM_NO_VAL),
        ("", QUBEMEM_NO_VAL), ("0", QUBEMEM_NO_VAL), ("-1", QUBEMEM_NO_VAL),
    ])
    func plainJobIDsAreParsedStrictly(_ text: String, _ id: UInt32) {
        #expect(text.withCString { qubemem_v1_plain_job_id($0) } == id)
        #expect(qubemem_v1_plain_job_id(nil) == QUBEMEM_NO_VAL)
    }

    @Test func textIsTruncatedAtACharacterBoundary() {
        var buffer = [CChar](repeating: 0x5A, count: 16)
        CText.write("ééééééééé", to: &buffer, capacity: 10)
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        #expect(text == "ééé...")
        #expect(buffer[10...].allSatisfy { $0 == 0x5A })
    }
}

extension Optional where Wrapped == String {
    func withOptionalCString<T>(_ body: (UnsafePointer<CChar>?) -> T) -> T {
        switch self {
        case .none: body(nil)
        case .some(let text): text.withCString { body($0) }
        }
    }
}
