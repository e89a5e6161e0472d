import Testing

@testable import QubeMem

@Suite struct PolicyTextSinkTests {
    static func written(_ body: (inout ByteArraySink) -> Void) -> String {
        var sink = ByteArraySink()
        body(&sink)
        return sink.text
    }

    @Test(arguments: [UInt64(0), 7, 10, 99, 100, 1_048_576, 4_205_309_984, UInt64(Int64.max), UInt64.max])
    func decimalsMatchTheStandardLibrary(_ value: UInt64) {
        #expect(Self.written { $0.append(decimal: value) } == String(value))
    }

    @Test func slacksAreWrittenAsTheirDescription() throws {
        for text in ["1", "1.15", "1.5", "2", "1.0001", "1.1", "9.9999", "10", "3.25", "100"] {
            let slack = try #require(Slack.parse(text))
            #expect(Self.written { $0.append(slack: slack) } == slack.description, "\(text)")
        }
    }

    @Test func gibibytesMatchTheConfigFormatter() {
        for bytes: UInt64 in [0, 1, 1 << 29, (1 << 30) - 1, 1 << 30, 3 << 30 + 12345, 4_205_309_984, UInt64.max] {
            #expect(Self.written { $0.append(gibibytes: bytes) } == SizeText.gibibytes(bytes))
        }
    }

    @Test func runtimeTextLosesItsControlCharactersAndQuotesWhenAsked() {
        #expect(Self.written { $0.append(text: "a\nb\u{1B}[2J\"c\\d é") } == "a?b?[2J\"c\\d é")
        #expect(Self.written { $0.append(text: "say \"hi\" \\ bye", quoting: true) } == "say 'hi' / bye")
    }

    @Test func modelsAndPathsAreWrittenAsTheirRawValues() {
        for model in ModelVersion.allCases {
            #expect(Self.written { $0.append(model: model) } == model.rawValue)
        }
        for path in PipelinePath.allCases {
            #expect(Self.written { $0.append(path: path) } == path.rawValue)
        }
    }
}
