/// The copy of the AdminComment record kept at the end of the job's Comment:
/// `<the user's text>; qubemem:v1 action=set model=1.3 ...`.
///
/// Why a copy: an epilog may replace the AdminComment when the job ends. jobstats, the most used
/// job-efficiency tool, does exactly that (`sacctmgr -i update job where jobid=N set
/// AdminComment=JS1:...`), and the record would be lost. The Comment is the user's own field, so
/// the audit trusts a copy only when it agrees with what SLURM accounted (the request it records
/// must be the job's ReqMem, docs/design.md "Where the audit reads a prediction"); and the plugin
/// replaces any copy already in a comment, so none survives a decision but its own.
///
/// SLURM stores the Comment in accounting only with `AccountingStoreFlags=job_comment`.
public enum CommentRecord {
    /// What separates the user's text from the copy: the `qube:` section ends at a `;`, so the
    /// copy is never read as dimensions.
    public static let separator: StaticString = "; "

    /// The longest comment the plugin writes, in bytes: SLURM refuses a job whose comment is
    /// longer than 1024 characters, and the plugin never turns an accepted job into a refused one.
    /// A comment with no room for the copy is left as the user wrote it.
    public static let maxCommentBytes = 1024

    /// The user's part of `comment`: all of it, or what comes before the first copy
    /// (`; qubemem:v1 `) a decision wrote earlier (or a user typed).
    public static func userPart(of comment: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        let marker = RecordKey.marker
        let needed = separator.utf8CodeUnitCount + marker.utf8CodeUnitCount
        guard comment.count >= needed else { return comment }
        var i = 0
        while i + needed <= comment.count {
            if comment[i] == UInt8(ascii: ";"), matches(comment, at: i, separator),
               matches(comment, at: i + separator.utf8CodeUnitCount, marker)
            {
                return UnsafeBufferPointer(rebasing: comment[..<i])
            }
            i += 1
        }
        return comment
    }

    /// Writes the job's new comment: its user part, the separator and `record`.
    /// - Returns: false, with `sink` left as it was given, when the comment would be longer than
    ///   `maxCommentBytes` or than `sink` holds, or when `record` is empty.
    @discardableResult
    public static func write(comment: UnsafeBufferPointer<UInt8>, record: UnsafeBufferPointer<UInt8>,
                             to sink: inout FixedBufferSink) -> Bool
    {
        guard !record.isEmpty else { return false }
        let user = userPart(of: comment)
        let total = user.count + separator.utf8CodeUnitCount + record.count
        // The sink keeps one byte for the NUL that `finish()` writes.
        guard total <= maxCommentBytes, total < sink.capacity, sink.count == 0 else { return false }
        sink.append(verbatim: user)
        sink.append(separator)
        sink.append(bytes: record)
        return !sink.truncated
    }

    /// Whether `word` is spelt at `offset` in `text`.
    private static func matches(_ text: UnsafeBufferPointer<UInt8>, at offset: Int, _ word: StaticString) -> Bool {
        let end = offset + word.utf8CodeUnitCount
        return end <= text.count && ByteText.equal(UnsafeBufferPointer(rebasing: text[offset..<end]), word)
    }
}
