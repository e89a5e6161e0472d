import QubeMem
import QubeMemInputs
import Testing

@Suite struct QubeConfigFileTests {
    @Test func readsTheKeysThatSetMemoryWithQubesDefaults() throws {
        let file = try QubeConfigFile.parse("""
            nside: 8
            spins: [2]
            labels: ["E", "B"]
            maskfile: 'inputs/QU_mask.fits'
            lmax: 32
            outfilefisher: 'outputs/QU_fisher.dat'
            """, path: "QU.yaml")
        #expect(file.config.nside == 8)
        #expect(file.config.spins == [2])
        #expect(file.config.labelCount == 2)
        #expect(file.config.lmax == 32)
        #expect(file.config.lmaxSignal == nil)
        #expect(file.config.loadReduced == false)
        #expect(file.maskfile == "inputs/QU_mask.fits")
        #expect(file.warnings.isEmpty)
    }

    @Test func expandsConcatenatedLabelsAsQubeDoes() throws {
        let file = try QubeConfigFile.parse("spins: [0, 2]\nlabels: [\"TQU\"]\n", path: "c.yaml")
        #expect(file.config.labelCount == 3)
        let underscores = try QubeConfigFile.parse("spins: [0, 0]\nlabels: [\"T1_T2\"]\n", path: "c.yaml")
        #expect(underscores.config.labelCount == 2)
    }

    @Test func warnsOnAnUnknownKeyWithTheNearestKnownOne() throws {
        let file = try QubeConfigFile.parse("nside: 8\nlmax_signa: 40\n", path: "c.yaml")
        #expect(file.warnings.count == 1)
        #expect(file.warnings[0].contains("'lmax_signa'"))
        #expect(file.warnings[0].contains("did you mean 'lmax_signal'"))
        #expect(file.warnings[0].contains("line 2"))
    }

    @Test(arguments: [
        ("nside: eight\n", "nside is 'eight', expected a whole number"),
        ("nside: '8'\n", "nside is '8', expected a whole number"),
        ("spins: 2\n", "spins is '2', expected a list"),
        ("do_cross: maybe\n", "do_cross is 'maybe', expected true or false"),
        ("maskfile: [a, b]\n", "maskfile is 'a list', expected a file name"),
    ])
    func refusesAKeyOfTheWrongTypeNamingFileKeyAndValue(text: String, message: String) {
        #expect {
            _ = try QubeConfigFile.parse(text, path: "bad.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("'bad.yaml', line 1") && text.contains(message)
        }
    }

    /// The values PyYAML's safe_load gives for these scalars (checked with PyYAML 6).
    @Test(arguments: [
        ("1:30", 90), ("-1:0:0", -3600), ("190:20:30", 685_230), ("0x1F", 31), ("017", 15),
        ("0b101", 5), ("1_000", 1000), ("+12", 12), ("0", 0),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
    ])
    func readsEveryYaml11IntegerFormAsPyYamlDoes(scalar: String, value: Int) throws {
        let file = try QubeConfigFile.parse("lmax: \(scalar)\n", path: "forms.yaml")
        #expect(file.config.lmax == value)
    }

    /// Yams' own base-60 conversion traps on overflow; the yaml fuzz target found the first of these.
    @Test(arguments: [
        ("lmax", "922392233726854775:0"), ("lmax", "1:0:0:0:0:0:0:0:0:0:0:0:0"),
        ("nside", "9223372036854775808"), ("nside", "-9223372036854775809"), ("nside", "0x1_0000_0000_0000_0000"),
        ("spins", "[0, 99999999999999999999]"),
    ])
    func refusesAWholeNumberBeyond64BitsQuotingIt(key: String, value: String) {
        let quoted = value.hasPrefix("[") ? "99999999999999999999" : value
        #expect {
            _ = try QubeConfigFile.parse("\(key): \(value)\n", path: "big.yaml")
        } throws: { error in
            "\(error)" == "'big.yaml', line 1: \(key) is '\(quoted)', expected a whole number from -9223372036854775808 to 9223372036854775807"
        }
    }

    @Test func aKeyGivenTwiceIsNamed() {
        #expect {
            _ = try QubeConfigFile.parse("nside: 8\nlmax: 16\nnside: 16\n", path: "twice.yaml")
        } throws: { error in
            "\(error)" == "'twice.yaml': not a QUBE YAML config: 'nside' given more than once (QUBE would silently take the last); keep one"
        }
    }

    @Test func refusesTextThatIsNotAYamlMapping() {
        for text in ["nside: [8\n", "just words\n", "- 1\n- 2\n"] {
            #expect {
                _ = try QubeConfigFile.parse(text, path: "x.yaml")
            } throws: { error in
                "\(error)".hasPrefix("'x.yaml': not a QUBE YAML config")
            }
        }
    }

    @Test func refusesFlowNestingDeeperThanTheLimitAndSaysHowDeep() {
        let deep = "spins: " + String(repeating: "[", count: 65) + "0" + String(repeating: "]", count: 65) + "\n"
        #expect {
            _ = try QubeConfigFile.parse(deep, path: "deep.yaml")
        } throws: { error in
            "\(error)" == "'deep.yaml': not a QUBE YAML config: it nests [ ] or { } 65 levels deep; a QUBE config needs at most 2, and this reader stops at 64"
        }
    }

    @Test func bracketsInQuotesCommentsAndClosedCollectionsDoNotCountTowardTheLimit() throws {
        let brackets = String(repeating: "[", count: 100)
        let text = """
            nside: 8  # \(brackets)
            maskfile: '\(brackets)'
            log_file: "\(String(repeating: "{", count: 100))"
            parameters: [\(String(repeating: "[0], ", count: 100))[0]]
            lmax: 16
            """
        let file = try QubeConfigFile.parse(text, path: "ok.yaml")
        #expect(file.maskfile == brackets)
        #expect(file.config.lmax == 16)
        let nested64 = "spins: " + String(repeating: "[", count: 64) + "0" + String(repeating: "]", count: 64) + "\n"
        #expect(ConfigShapeLimits.check(nested64) == nil)
    }

    @Test func aVeryLongUnknownKeyIsWarnedWithoutASuggestion() throws {
        let key = String(repeating: "lmax", count: 250)  // 1,000 bytes: libyaml allows a key of 1,024
        let file = try QubeConfigFile.parse("nside: 8\n\(key): 1\n", path: "long.yaml")
        #expect(file.warnings.count == 1)
        #expect(!file.warnings[0].contains("did you mean"))
        #expect(QubeConfigFile.nearestKey(to: "NSIDE") == "nside")
        #expect(QubeConfigFile.nearestKey(to: "lmn") == "lmin")
    }

    @Test func refusesMoreAliasesThanTheLimitAndSaysWhy() {
        // Ten levels of nine aliases: 9^9 nodes from a few hundred bytes ("billion laughs").
        var text = "a0: &a0 [x, x, x]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]\n"
        }
        #expect {
            _ = try QubeConfigFile.parse(text, path: "laughs.yaml")
        } throws: { error in
            "\(error)".hasPrefix("'laughs.yaml': not a QUBE YAML config: it uses 17 or more YAML aliases (*name); a QUBE config needs none, and this reader stops at 16")
        }
    }

    @Test func acceptsAFewAliasesAndStarsInsideValues() throws {
        let text = """
            base: &spins [0, 2]
            spins: *spins
            log_file: 'run*.log'
            root_filename: a*b
            nside: 8  # *not an alias
            """
        let file = try QubeConfigFile.parse(text, path: "few.yaml")
        #expect(file.config.spins == [0, 2])
        #expect(file.warnings.count == 1)  // base is not a key QUBE knows
        let sixteen = (0..<16).map { "k\($0): *a" }.joined(separator: "\n")
        #expect(ConfigShapeLimits.check("a: &a 1\n" + sixteen) == nil)
        #expect(ConfigShapeLimits.check("a: &a 1\n" + sixteen + "\nk16: *a") == .aliases(17))
    }
}
