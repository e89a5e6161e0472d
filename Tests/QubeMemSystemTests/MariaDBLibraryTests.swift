import Testing
@testable import QubeMemSystem

@Suite struct MariaDBLibraryTests {
    @Test func theInstalledClientLibraryLoadsWithEveryFunctionTheAuditCalls() {
        // libmariadb3 is installed with the MariaDB client (scripts/install-deps.sh).
        guard case .success = MariaDBLibrary.load() else {
            Issue.record("\(MariaDBLibrary.fileName) did not load")
            return
        }
    }

    @Test func aLibraryThatIsNotThereIsNamedInTheError() {
        guard case .failure(let error) = MariaDBLibrary.load("libqubemem-no-such-client.so.9") else {
            Issue.record("a library that does not exist loaded")
            return
        }
        #expect(error.description.hasPrefix("cannot load libqubemem-no-such-client.so.9 ("))
    }

    @Test func aLibraryWithoutTheClientsFunctionsIsRefusedWithTheFirstMissingName() {
        // libm is loadable but is no MariaDB client.
        guard case .failure(let error) = MariaDBLibrary.load("libm.so.6") else {
            Issue.record("libm passed for the MariaDB client library")
            return
        }
        #expect(error.description == "libm.so.6 has no function mysql_init")
    }
}
