import ArgumentParser
import Foundation
import QubeMem
import Testing
@testable import QubeMemCLI

@Suite struct PredictCommandTests {
    func run(_ args: [String]) throws -> OutputSink {
        let sink = OutputSink()
        let command = try PredictCommand.parse(args)
        try command.run(sink.context)
        return sink
    }

    @Test func everyExampleInTheHelpRuns() throws {
        let examples = helpExamples(PredictCommand.configuration.discussion, subcommand: "predict")
        #expect(examples.count >= 5)
        for args in examples {
            let sink = try run(args)
            #expect(!sink.out.isEmpty, "\(args)")
        }
    }

    @Test func jsonHasEveryTermInBytesAndTheRequest() throws {
        let sink = try run(["--json", "--model", "1.0", "--path", "harmonic", "--n-pix", "59136",
                            "--n-modes", "33274", "--lmax-signal", "256", "--lmax", "128"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(sink.out.utf8)) as? [String: Any])
        #expect(doc["schema"] as? String == "qubemem.predict/1")
        #expect(doc["model"] as? String == "1.0")
        let stages = try #require(doc["stages"] as? [[String: Any]])
        #expect(stages.map { $0["name"] as? String } == ["covariance_setup", "basis_setup", "fisher_run", "spectra_run"])
        let basis = stages[1]
        let persistent = try #require(basis["persistent"] as? [[String: Any]])
        #expect(persistent.first?["name"] as? String == "L (Cholesky factor of N, in-place)")
        #expect(persistent.first?["bytes"] as? Int == 59136 * 59136 * 8)
        let request = try #require(doc["request"] as? [String: Any])
        let expected = try Predictor.predict(
            try #require(QubeComment.parse("qube: model=1.0 path=harmonic n_pix=59136 n_modes=33274 lmax_signal=256 lmax=128")).get(),
            policy: RequestPolicy()).get()
        #expect(request["request_mib"] as? Int == Int(expected.requestMiB))
        let measured = try #require(doc["measured_terms"] as? [[String: Any]])
        #expect(measured.first?["stage"] as? String == "fisher_run")
        #expect(measured.first?["bytes"] as? Int == 5 * 33274 * 33274 * 8)
    }

    @Test func commentRoundTripsThroughTheGrammar() throws {
        let comment = try run(["--comment", "--fields", "QU", "--n-obs", "2496", "--lmax", "64", "--lmax-signal", "128"]).out
        #expect(comment == "qube: fields=QU n_obs=2496 lmax_signal=128 lmax=64\n")
        let fromFlags = try run(["--request", "--fields", "QU", "--n-obs", "2496", "--lmax", "64", "--lmax-signal", "128"]).out
        let fromComment = try run(["--request", "--from-comment", comment]).out
        #expect(fromFlags == fromComment)
        #expect(fromFlags.hasPrefix("Request: 5479 MiB per node"))
    }

    @Test func slackAndFloorFlagsChangeTheRequest() throws {
        let base = try run(["--request", "--path", "pixel_direct", "--n-pix", "1000", "--n-bins", "1", "--n-params", "1"]).out
        let more = try run(["--request", "--path", "pixel_direct", "--n-pix", "1000", "--n-bins", "1", "--n-params", "1",
                            "--slack", "2", "--interpreter-floor", "1G"]).out
        #expect(base != more)
        #expect(more.contains("slack 2"))
        #expect(more.contains("interpreter floor 1.00 GiB"))
    }

    /// Bad values are quoted back with what is valid; input errors are CLIErrors (exit 64).
    @Test(arguments: [
        (["--path", "harmonic", "--n-pix=0", "--n-modes", "3", "--lmax-signal", "4"], "invalid n_pix '0': must be positive"),
        (["--path", "harmonic", "--n-pix", "10", "--n-modes", "3", "--lmax-signal", "4", "--lmax", "9"], "invalid lmax '9'"),
        (["--path", "pixel_direct", "--n-pix", "4611686018427387904", "--n-bins", "1", "--n-params", "1"], "n_pix '4611686018427387904' is too large"),
        (["--path", "harmonic", "--n-pix", "10", "--n-modes", "3", "--lmax-signal", "4", "--working-dim", "11"], "invalid working_dim '11'"),
        (["--from-comment", "qube: n_pixels=3"], "bad qube comment: unknown key in 'n_pixels=3'"),
        (["--from-comment", "no section here"], "the comment 'no section here' has no 'qube:' section"),
    ])
    func badInputIsAUsageErrorQuotingTheValue(args: [String], message: String) throws {
        do {
            _ = try run(args)
            Issue.record("accepted \(args)")
        } catch let error as CLIError {
            #expect(error.description.hasPrefix(message), "\(error)")
            #expect(error.exitCode.rawValue == 64)
        }
    }

    @Test func unknownModelIsRejectedByTheParserWithTheValidValues() {
        #expect(throws: (any Error).self) { try PredictCommand.parse(["--model", "2.0"]) }
        let message = PredictCommand.message(for: CLIError.noQubeSection(comment: "x"))
        #expect(message.contains("'x'"))
    }
}

@Suite struct HelpSnapshotTests {
    @Test func predictHelpMatchesSnapshot() {
        let help = QubeMemCommand.helpMessage(for: PredictCommand.self, columns: 80)
        if let mismatch = snapshotMismatch(help, named: "predict-help.txt") { Issue.record("\(mismatch)") }
    }

    @Test(arguments: ["audit", "profile", "sweep"])
    func subcommandHelpMatchesSnapshot(name: String) {
        let command: any ParsableCommand.Type = switch name {
        case "audit": AuditCommand.self
        case "profile": ProfileCommand.self
        default: SweepCommand.self
        }
        let help = QubeMemCommand.helpMessage(for: command, columns: 80)
        if let mismatch = snapshotMismatch(help, named: "\(name)-help.txt") { Issue.record("\(mismatch)") }
    }

    /// `--help` is help, not the command to run, for the commands that take a command line.
    @Test(arguments: [["profile", "--help"], ["sweep", "--help"], ["profile", "-h"]])
    func helpIsNotTakenForTheCommandToRun(args: [String]) {
        do {
            let parsed = try QubeMemCommand.parseAsRoot(args)
            #expect(!(parsed is ProfileCommand) && !(parsed is SweepCommand), "\(args) parsed as a command to run")
        } catch {
            #expect(QubeMemCommand.exitCode(for: error) == .success, "\(error)")
        }
    }

    @Test func profileTakesTheCommandAfterTheTerminator() throws {
        let parsed = try QubeMemCommand.parseAsRoot(["profile", "--interval", "50ms", "--", "python3", "-u", "--help"])
        let profile = try #require(parsed as? ProfileCommand)
        #expect(profile.command == ["python3", "-u", "--help"])
    }

    @Test func rootHelpMatchesSnapshot() {
        let help = QubeMemCommand.helpMessage(columns: 80)
        if let mismatch = snapshotMismatch(help, named: "root-help.txt") { Issue.record("\(mismatch)") }
    }
}

@Suite struct PredictConfigTests {
    func withConfig(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qubemem-\(UUID().uuidString).conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    let dims = ["--fields", "QU", "--n-obs", "2496", "--lmax", "64", "--lmax-signal", "128"]

    @Test func requestFollowsTheSiteConfigAsThePluginDoes() throws {
        try withConfig("slack = 1.5\nmin_request = 9000\n") { path in
            let sink = OutputSink()
            try PredictCommand.parse(["--request", "--config", path] + dims).run(sink.context)
            #expect(sink.out.hasPrefix("Request: 9000 MiB per node (raised to min_request)"))
            #expect(sink.out.contains("slack 1.5"))
        }
    }

    @Test func requestAboveMaxRequestSaysThePluginWouldReject() throws {
        try withConfig("max_request = 100\n") { path in
            let sink = OutputSink()
            #expect(throws: ExitCode.failure) {
                try PredictCommand.parse(["--request", "--config", path] + dims).run(sink.context)
            }
            #expect(sink.err.contains("limit of 100 MiB (max_request)"))
        }
    }

    @Test func badConfigFileIsAnErrorNamingFileKeyAndLine() throws {
        try withConfig("# site\nslak = 1.2\n") { path in
            do {
                try PredictCommand.parse(["--request", "--config", path] + dims).run(OutputSink().context)
                Issue.record("accepted a bad config")
            } catch let error as CLIError {
                #expect(error.description.contains("'\(path)'"))
                #expect(error.description.contains("line 2"))
                #expect(error.description.contains("slak"))
                #expect(error.exitCode == .failure)
            }
        }
    }
}
