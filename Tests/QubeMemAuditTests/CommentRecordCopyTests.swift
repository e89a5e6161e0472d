import Foundation
import Testing
@testable import QubeMemAudit
import QubeMemSlurm

/// A job whose AdminComment an epilog replaced (jobstats' `JS1:...`) keeps its prediction through
/// the plugin's copy in the Comment, when the copy agrees with what SLURM accounted.
@Suite struct CommentRecordCopyTests {
    static let record = "qubemem:v1 action=set model=1.3 path=pixel_direct peak_bytes=1000000000 "
        + "baseline_bytes=268435456 slack=1.15 request_mib=1885 user_mib=none"

    /// The one job of a sacct row with this ReqMem, comment and AdminComment.
    func job(reqMem: String, comment: String, admin: String) -> AccountedJob? {
        var acc = SacctAccumulator()
        acc.feed(Array("5|n|u|a|p|COMPLETED|1|1||1|\(reqMem)|||\(comment)|\(admin)\n".utf8))
        acc.finish()
        return acc.finishedJobs.first
    }

    @Test func aReplacedAdminCommentFallsBackToTheCopyInTheComment() {
        let j = job(reqMem: "1885M", comment: "qube: n_pix=3008 lmax=32; " + Self.record, admin: "JS1:H4sIAAAA")
        guard case .record(let r)? = j?.record else {
            Issue.record("the copy was not used: \(String(describing: j?.record))")
            return
        }
        #expect(r.requestMiB == 1885 && r.model == "1.3" && r.peakBytes == 1_000_000_000)
        #expect(j?.comment == "")  // a record was found: the comment is not kept for recomputing
    }

    @Test func theAdminCommentRecordWinsOverTheCopy() {
        let admin = Self.record.replacingOccurrences(of: "model=1.3", with: "model=1.2")
        let j = job(reqMem: "1885M", comment: "qube: n_pix=3; " + Self.record, admin: admin)
        guard case .record(let r)? = j?.record else { Issue.record("no record"); return }
        #expect(r.model == "1.2")
    }

    @Test(arguments: [
        "1886M",  // not the memory the copy says was set: the user's text, not the plugin's decision
        "",       // nothing accounted to compare with
        "3770Mn", // per node, but twice the record's
    ])
    func aCopyThatDisagreesWithReqMemIsIgnored(reqMem: String) {
        let j = job(reqMem: reqMem, comment: "qube: n_pix=3008 lmax=32; " + Self.record, admin: "JS1:x")
        #expect(j?.record == AdminRecord.Found.none)
        #expect(j?.comment == "qube: n_pix=3008 lmax=32; " + Self.record)  // priced from the comment
    }

    @Test func aWarnCopyOrAKeptRecordWithoutTheUsersMemoryIsIgnored() {
        #expect(job(reqMem: "1885M", comment: "x; qubemem:v1 action=warn user_mib=none", admin: "")?.record == AdminRecord.Found.none)
        let kept = Self.record.replacingOccurrences(of: "action=set", with: "action=kept_user")
        #expect(job(reqMem: "1885M", comment: "q; " + kept, admin: "")?.record == AdminRecord.Found.none)  // user_mib=none
        let keptUser = kept.replacingOccurrences(of: "user_mib=none", with: "user_mib=4000")
        guard case .record? = job(reqMem: "4000M", comment: "q; " + keptUser, admin: "")?.record else {
            Issue.record("a kept_user copy matching the user's --mem was not used")
            return
        }
    }
}
