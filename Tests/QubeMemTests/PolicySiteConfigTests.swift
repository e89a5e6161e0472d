import Testing

@testable import QubeMem

@Suite struct PolicySiteConfigTests {
    @Test func emptyTextGivesTheDocumentedDefaults() throws {
        let config = try SiteConfig.parse("").get()
        #expect(config == SiteConfig())
        #expect(config.enabled)
        #expect(config.policy.slack.tenThousandths == 11_500)
        #expect(config.policy.interpreterFloorBytes == 256 << 20)
        #expect(config.policy.inputCovariances == 1)
        #expect(config.minRequestMiB == 0)
        #expect(config.maxRequestMiB == nil)
        #expect(config.userMemory == .larger)
        #expect(config.onMalformed == .reject)
    }

    @Test func everyKeyIsReadWithCommentsAndBlankLines() throws {
        let text = """
            # qubemem.conf
            enabled = no   # off for now

            slack=1.25
            interpreter_floor = 0.5G
            input_covariances = 2
            min_request = 1G
            max_request = 500G
            default_model = 1.2
            measured_terms = off
            user_memory = override
            on_malformed = warn
            """
        let config = try SiteConfig.parse(text).get()
        #expect(!config.enabled)
        #expect(config.policy.slack.tenThousandths == 12_500)
        #expect(config.policy.interpreterFloorBytes == 512 << 20)
        #expect(config.policy.inputCovariances == 2)
        #expect(config.minRequestMiB == 1024)
        #expect(config.maxRequestMiB == 500 * 1024)
        #expect(config.policy.defaultModel == .v1_2)
        #expect(!config.policy.measuredTerms)
        #expect(config.userMemory == .override)
        #expect(config.onMalformed == .warn)
    }

    @Test func renderedConfigParsesBackToItself() throws {
        var config = SiteConfig()
        config.maxRequestMiB = 123_456
        config.minRequestMiB = 512
        config.userMemory = .user
        let again = try SiteConfig.parse(config.render()).get()
        #expect(again == config)
    }

    struct SizeCase: Sendable, CustomTestStringConvertible {
        var id: String
        var text: String
        var bytes: UInt64?
        var testDescription: String { id }
    }

    @Test(arguments: [
        SizeCase(id: "mebi", text: "256M", bytes: 256 << 20),
        SizeCase(id: "decimal gibi", text: "0.25G", bytes: 256 << 20),
        SizeCase(id: "no suffix is MiB", text: "300", bytes: 300 << 20),
        SizeCase(id: "MiB spelling", text: "64MiB", bytes: 64 << 20),
        SizeCase(id: "lower case", text: "1g", bytes: 1 << 30),
        SizeCase(id: "kibi", text: "512K", bytes: 512 << 10),
        SizeCase(id: "tebi", text: "1.5T", bytes: 3 << 39),
        SizeCase(id: "rounds up", text: "0.1K", bytes: 103),
        SizeCase(id: "negative", text: "-1G", bytes: nil),
        SizeCase(id: "empty", text: "", bytes: nil),
        SizeCase(id: "two points", text: "1.2.3G", bytes: nil),
        SizeCase(id: "unknown unit", text: "3X", bytes: nil),
        SizeCase(id: "bare B", text: "12B", bytes: nil),
        SizeCase(id: "overflow", text: "99999999999T", bytes: nil),
        SizeCase(id: "too many digits", text: "1234567890123456789", bytes: nil),
    ])
    func sizesAreExactAndStrict(_ size: SizeCase) {
        #expect(SizeText.parseBytes(size.text, defaultUnit: .mebi) == size.bytes)
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var id: String
        var text: String
        var line: Int
        var key: String?
        var mentions: String
        var testDescription: String { id }
    }

    @Test(arguments: [
        BadCase(id: "unknown key", text: "slack = 1.2\nspeed = 3", line: 2, key: "speed", mentions: "unknown key 'speed'"),
        BadCase(id: "duplicate key", text: "slack = 1.2\n\nslack = 1.3", line: 3, key: "slack", mentions: "already set on line 1"),
        BadCase(id: "missing equals", text: "# c\nslack 1.2", line: 2, key: nil, mentions: "expected 'key = value'"),
        BadCase(id: "missing key", text: "= 3", line: 1, key: nil, mentions: "missing key"),
        BadCase(id: "slack below one", text: "slack = 0.9", line: 1, key: "slack", mentions: "'0.9' is invalid for 'slack'"),
        BadCase(id: "slack not a number", text: "slack = lots", line: 1, key: "slack", mentions: "'lots'"),
        BadCase(id: "slack five places", text: "slack = 1.12345", line: 1, key: "slack", mentions: "'1.12345'"),
        BadCase(id: "floor with bad unit", text: "interpreter_floor = 3Q", line: 1, key: "interpreter_floor", mentions: "'3Q'"),
        BadCase(id: "covariances negative", text: "input_covariances = -1", line: 1, key: "input_covariances", mentions: "'-1'"),
        BadCase(id: "covariances too many", text: "input_covariances = 65", line: 1, key: "input_covariances", mentions: "0 to 64"),
        BadCase(id: "max zero", text: "max_request = 0", line: 1, key: "max_request", mentions: "'0'"),
        BadCase(id: "max below min", text: "min_request = 2G\nmax_request = 1G", line: 2, key: "max_request", mentions: "at least min_request"),
        BadCase(id: "bad model", text: "default_model = 2.0", line: 1, key: "default_model", mentions: "'2.0'"),
        BadCase(id: "bad user policy", text: "user_memory = maybe", line: 1, key: "user_memory", mentions: "override, larger or user"),
        BadCase(id: "bad malformed policy", text: "on_malformed = ignore", line: 1, key: "on_malformed", mentions: "reject or warn"),
        BadCase(id: "bad boolean", text: "enabled = perhaps", line: 1, key: "enabled", mentions: "'perhaps'"),
        BadCase(id: "non-UTF-8 key", text: "sl\u{FFFD}ck = 1", line: 1, key: "sl\u{FFFD}ck", mentions: "unknown key"),
    ])
    func badConfigsNameTheKeyAndLine(_ bad: BadCase) {
        switch SiteConfig.parse(bad.text) {
        case .success(let config):
            Issue.record("expected an error, got \(config)")
        case .failure(let error):
            #expect(error.line == bad.line)
            #expect(error.key == bad.key)
            #expect(error.description.contains("line \(bad.line):"))
            #expect(error.description.contains(bad.mentions), "\(error)")
        }
    }

    @Test func windowsLineEndingsAreAccepted() throws {
        let config = try SiteConfig.parse("slack = 1.3\r\nuser_memory = user\r\n").get()
        #expect(config.policy.slack.tenThousandths == 13_000)
        #expect(config.userMemory == .user)
    }

    @Test func gibibytesAreRoundedToTwoPlaces() {
        #expect(SizeText.gibibytes(0) == "0.00")
        #expect(SizeText.gibibytes(1 << 30) == "1.00")
        #expect(SizeText.gibibytes((1 << 30) + (1 << 30) / 4) == "1.25")
        #expect(SizeText.gibibytes((1 << 30) - 1) == "1.00")
        #expect(SizeText.gibibytes(UInt64.max) == "17179869184.00")
    }
}

import Foundation

@Suite struct PolicyExampleConfigTests {
    /// examples/qubemem.conf is the file admins copy: it must parse, and say what it claims.
    @Test func exampleConfigParsesToTheDefaultsPlusAMaximum() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/qubemem.conf").standardized
        let text = try String(contentsOf: url, encoding: .utf8)
        let config = try SiteConfig.parse(text).get()
        var expected = SiteConfig()
        expected.maxRequestMiB = 500 * 1024
        #expect(config == expected)
    }
}
