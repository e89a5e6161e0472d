// The plugin's one piece of global state: where qubemem.conf is, what it last held, and the
// configuration in force. Guarded by a mutex (slurmctld already serialises job_submit calls, but
// the tests do not).

import CQubeMemABI
import Glibc
import QubeMem

final class PluginState: @unchecked Sendable {
    static let shared = PluginState()

    /// The identity of the file last read: a change in any field means "read it again".
    struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    /// What the config path held the last time we looked.
    enum FileState: Equatable {
        case unknown
        case missing
        case unreadable(Int32)
        case present(FileIdentity)
    }

    /// The largest qubemem.conf read (bytes); anything larger is an error.
    static let maximumConfigBytes = 65_536

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var path: String = ConfigLocation.fallback
    private var fileState: FileState = .unknown
    /// The configuration in force; nil when no good configuration was ever loaded (pass-through).
    private var config: SiteConfig?
    /// An inotify descriptor watching the config file's folder, or -1: then every submission
    /// stats the file instead (a path walk, about 1 µs).
    private var watch: Int32 = -1

    private init() {
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }

    /// Sets the path and loads it. Returns the line to log and whether it reports an error.
    func configure(path newPath: String) -> (String, Bool) {
        locked {
            path = newPath
            fileState = .unknown
            config = nil
            startWatching()
            let (line, isError) = reloadIfChanged() ?? ("", false)
            let effective = config == nil ? "; passing every job through untouched" : ""
            let watching = watch >= 0 ? "inotify" : "stat"
            return ("qubemem: init: abi=\(QUBEMEM_ABI_VERSION) config=\(path) watch=\(watching): \(line)\(effective)", isError)
        }
    }

    /// Forgets everything (fini).
    func reset() {
        locked {
            fileState = .unknown
            config = nil
            stopWatching()
        }
    }

    /// Watches the config file's folder (created, written, moved, deleted, attributes).
    private func startWatching() {
        stopWatching()
        let descriptor = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard descriptor >= 0 else { return }
        watch = descriptor
        guard addWatch() else { stopWatching(); return }
    }

    private func addWatch() -> Bool {
        let folder = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        // IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |
        // IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF
        let mask: UInt32 = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
        return inotify_add_watch(watch, folder, mask) >= 0
    }

    private func stopWatching() {
        if watch >= 0 { close(watch) }
        watch = -1
    }

    /// True when the folder saw an event since the last call (or when not watching). Drains the queue.
    ///
    /// Asks poll(2) first: with nothing queued (the usual case) that is one system call and no
    /// errno to read.
    private func folderChanged() -> Bool {
        guard watch >= 0 else { return true }
        var ready = pollfd(fd: watch, events: Int16(POLLIN), revents: 0)
        let polled = poll(&ready, 1, 0)
        if polled == 0 { return false }  // nothing queued
        // Readable, or poll failed (then read to find out; an error means "look at the file").
        var changed = polled < 0
        // 128 bytes on the stack for the inotify events (a tuple: no heap allocation on the
        // job_submit path, which runs under slurmctld's locks).
        var events = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                      UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while true {
            let count = withUnsafeMutableBytes(of: &events) { read(watch, $0.baseAddress, $0.count) }
            if count > 0 { changed = true; continue }
            if count < 0, errno == EINTR { continue }
            break
        }
        // The folder may have been replaced: watch it again (same watch when it is unchanged).
        if changed, !addWatch() { stopWatching() }
        return changed
    }

    /// The decision for a job whose comment contains "qube:".
    func submit(_ job: qubemem_v1_job, comment: UnsafePointer<CChar>,
                result: UnsafeMutablePointer<qubemem_v1_result>) -> Int32 {
        // Built only when there is something to log: a String here costs a release per call.
        var function: String { job.is_modify != 0 ? "job_modify" : "job_submit" }
        let current: SiteConfig? = locked {
            if folderChanged(), let (line, isError) = reloadIfChanged() {
                CText.write("qubemem: \(function): config \(path): \(line)",
                            to: result.pointee.config_log, capacity: result.pointee.config_log_capacity)
                result.pointee.config_log_level =
                    isError ? Int32(QUBEMEM_V1_LOG_ERROR) : Int32(QUBEMEM_V1_LOG_INFO)
            }
            return config
        }
        guard let current else { return Int32(QUBEMEM_V1_PASS) }

        let commentBytes = UnsafeBufferPointer(
            start: UnsafeRawPointer(comment).assumingMemoryBound(to: UInt8.self), count: strlen(comment))
        let layout = JobFields.layout(job)
        let decision = SubmissionDecision.decide(
            commentBytes: commentBytes, userMemory: JobFields.userMemory(job), config: current, layout: layout)
        // A per-node request set at submission pins the ranks per node it was priced for.
        var pinned: UInt64? = nil
        if case .setMemory = decision.outcome, job.is_modify == 0 { pinned = layout.ranksPerNodeToPin }

        var message = FixedBufferSink(bytes(result.pointee.message), capacity: Int(result.pointee.message_capacity))
        var record = FixedBufferSink(bytes(result.pointee.record), capacity: Int(result.pointee.record_capacity))
        var log = FixedBufferSink(bytes(result.pointee.log), capacity: Int(result.pointee.log_capacity))
        log.append(job.is_modify != 0 ? "qubemem: job_modify: uid=" : "qubemem: job_submit: uid=")
        log.append(decimal: UInt64(job.submit_uid))
        log.append(" ")
        let logged = decision.writeTexts(message: &message, record: &record, log: &log)
        if let pinned {
            message.append("\nqubemem: at most ")
            message.append(decimal: pinned)
            message.append(" ranks per node (--ntasks-per-node=")
            message.append(decimal: pinned)
            message.append("), the layout the memory was set for")
        }
        message.finish()
        record.finish()
        if current.commentRecord, record.count > 0, !record.truncated {
            Self.writeCommentCopy(commentBytes, recordCount: record.count, result: result)
        }
        if logged {
            log.finish()
            // Decisions are info (verbose when routine); internal failures are logged as errors
            // by the exports themselves.
            result.pointee.log_level =
                decision.logIsRoutine ? Int32(QUBEMEM_V1_LOG_VERBOSE) : Int32(QUBEMEM_V1_LOG_INFO)
        } else {
            log.clear()
        }
        switch decision.outcome {
        case .untouched:
            return Int32(QUBEMEM_V1_PASS)
        case .reject(.malformedComment):
            return Int32(QUBEMEM_V1_REJECT_COMMENT)
        case .reject(.overLimit):
            return Int32(QUBEMEM_V1_REJECT_MEMORY)
        case .setMemory(let mib), .setMemoryPerCPU(let mib):
            // A value with the MEM_PER_CPU bit (or NO_VAL64) would mean something else to SLURM.
            guard mib > 0, mib < QUBEMEM_MEM_PER_CPU else {
                CText.write("qubemem: \(function): internal: refusing to set request_mib=\(mib)",
                            to: result.pointee.log, capacity: result.pointee.log_capacity)
                result.pointee.log_level = Int32(QUBEMEM_V1_LOG_ERROR)
                CText.write("", to: result.pointee.message, capacity: result.pointee.message_capacity)
                CText.write("", to: result.pointee.record, capacity: result.pointee.record_capacity)
                CText.write("", to: result.pointee.comment, capacity: result.pointee.comment_capacity)
                return Int32(QUBEMEM_V1_FAILED)
            }
            result.pointee.ntasks_per_node = pinned.map { UInt16(truncatingIfNeeded: $0) } ?? QUBEMEM_NO_VAL16
            if case .setMemoryPerCPU = decision.outcome {
                result.pointee.pn_min_memory = mib | QUBEMEM_MEM_PER_CPU
            } else {
                result.pointee.pn_min_memory = mib
            }
            return Int32(QUBEMEM_V1_SET)
        }
    }

    /// Writes the job's new comment, the user's text and the copy of the record that survives an
    /// epilog replacing the AdminComment (`CommentRecord`). Out of line, away from `submit`'s own
    /// path: inlined there it cost about 5% more per valid comment, copy on or off
    /// (`plugin/build/22.05.8/bench-harness bench`, same session; BENCHMARKS issue 12).
    @inline(never)
    private static func writeCommentCopy(_ comment: UnsafeBufferPointer<UInt8>, recordCount: Int,
                                         result: UnsafeMutablePointer<qubemem_v1_result>) {
        var copy = FixedBufferSink(bytes(result.pointee.comment), capacity: Int(result.pointee.comment_capacity))
        let written = UnsafeBufferPointer(start: UnsafePointer(bytes(result.pointee.record)), count: recordCount)
        if CommentRecord.write(comment: comment, record: written, to: &copy) { copy.finish() }
    }

    /// Re-reads the config file when its identity changed. Call with the mutex held.
    /// Returns the line to log (and whether it is an error), or nil when nothing changed.
    private func reloadIfChanged() -> (String, Bool)? {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT {
                guard fileState != .missing else { return nil }
                fileState = .missing
                config = SiteConfig()
                return ("no file, using the defaults", false)
            }
            guard fileState != .unreadable(code) else { return nil }
            fileState = .unreadable(code)
            return ("cannot stat: \(CText.errorText(code)); \(keepMessage())", true)
        }
        let identity = FileIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedSeconds: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec)
        if fileState == .present(identity) { return nil }
        fileState = .present(identity)
        switch Self.readFile(path) {
        case .failure(let reason):
            return ("cannot read: \(reason); \(keepMessage())", true)
        case .success(let text):
            switch SiteConfig.parse(text) {
            case .failure(let error):
                return ("\(error); \(keepMessage())", true)
            case .success(let loaded):
                config = loaded
                return ("loaded: \(loaded.summary)", false)
            }
        }
    }

    private func keepMessage() -> String {
        config == nil ? "no good configuration yet: passing jobs through untouched"
            : "keeping the last good configuration"
    }

    /// Reads a whole (small) file as UTF-8 text, invalid bytes replaced.
    static func readFile(_ path: String) -> Result<String, ReadError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return .failure(ReadError(CText.errorText(errno))) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: maximumConfigBytes + 1)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return read(fd, base + filled, buffer.count - filled)
            }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ReadError(CText.errorText(errno)))
            }
            filled += count
        }
        guard filled <= maximumConfigBytes else {
            return .failure(ReadError("larger than \(maximumConfigBytes) bytes"))
        }
        return .success(String(decoding: bytes[..<filled], as: UTF8.self))
    }

    struct ReadError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// A C text buffer seen as bytes.
private func bytes(_ pointer: UnsafeMutablePointer<CChar>?) -> UnsafeMutablePointer<UInt8>? {
    pointer.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }
}

/// Writing Swift text into C buffers.
enum CText {
    /// Writes `text` NUL-terminated into `buffer`, truncated at a UTF-8 boundary (with "...")
    /// to fit `capacity` bytes; control characters become '?'. Does nothing without a buffer.
    /// The same writer as the decision's texts (`FixedBufferSink`), for texts built as Strings
    /// (configuration and internal-failure lines, off the hot path).
    static func write(_ text: String, to buffer: UnsafeMutablePointer<CChar>?, capacity: UInt32) {
        guard let buffer, capacity > 0 else { return }
        var sink = FixedBufferSink(bytes(buffer), capacity: Int(capacity))
        var text = text
        text.withUTF8 { sink.append(bytes: $0) }
        sink.finish()
    }

    /// Empties every output of a result (all buffers "", levels NONE, memory unchanged).
    static func clear(_ result: UnsafeMutablePointer<qubemem_v1_result>) {
        result.pointee.pn_min_memory = QUBEMEM_NO_VAL64
        result.pointee.ntasks_per_node = QUBEMEM_NO_VAL16
        result.pointee.log_level = Int32(QUBEMEM_V1_LOG_NONE)
        result.pointee.config_log_level = Int32(QUBEMEM_V1_LOG_NONE)
        if result.pointee.message_capacity > 0 { result.pointee.message?[0] = 0 }
        if result.pointee.record_capacity > 0 { result.pointee.record?[0] = 0 }
        if result.pointee.log_capacity > 0 { result.pointee.log?[0] = 0 }
        if result.pointee.config_log_capacity > 0 { result.pointee.config_log?[0] = 0 }
        if result.pointee.comment_capacity > 0 { result.pointee.comment?[0] = 0 }
    }

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
