#if canImport(Glibc)
import Glibc
#endif
import CMariaDB

/// The functions of MariaDB Connector/C (`libmariadb.so.3`) that `audit --source db` calls,
/// looked up with dlopen when an audit reads the database.
///
/// The library replaces the `mariadb` command-line client on the audit's path (issue 16): the
/// command spent about as much CPU printing rows as text as the server spent reading them, and
/// qubemem then split that text again. Through the library the rows arrive as the server sends
/// them, each field with its length.
struct MariaDBLibrary: @unchecked Sendable {
    typealias Handle = UnsafeMutablePointer<MYSQL>
    typealias Result = OpaquePointer
    typealias Statement = UnsafeMutablePointer<MYSQL_STMT>

    let initialize: @convention(c) (Handle?) -> Handle?
    let options: @convention(c) (Handle?, mysql_option, UnsafeRawPointer?) -> Int32
    let connect: @convention(c) (
        Handle?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
        UInt32, UnsafePointer<CChar>?, UInt
    ) -> Handle?
    let query: @convention(c) (Handle?, UnsafePointer<CChar>?, UInt) -> Int32
    let useResult: @convention(c) (Handle?) -> Result?
    let fieldCount: @convention(c) (Result?) -> UInt32
    let fetchRow: @convention(c) (Result?) -> MYSQL_ROW?
    let fetchLengths: @convention(c) (Result?) -> UnsafeMutablePointer<UInt>?
    let freeResult: @convention(c) (Result?) -> Void
    let errorNumber: @convention(c) (Handle?) -> UInt32
    let errorText: @convention(c) (Handle?) -> UnsafePointer<CChar>?
    let close: @convention(c) (Handle?) -> Void
    // Prepared statements: the binary protocol, in which the server sends integers as integers
    // (`MariaDBSession.boundRows`).
    let statementInit: @convention(c) (Handle?) -> Statement?
    let statementPrepare: @convention(c) (Statement?, UnsafePointer<CChar>?, UInt) -> Int32
    let statementExecute: @convention(c) (Statement?) -> Int32
    let statementFieldCount: @convention(c) (Statement?) -> UInt32
    let statementBindResult: @convention(c) (Statement?, UnsafeMutablePointer<MYSQL_BIND>?) -> CChar
    let statementFetch: @convention(c) (Statement?) -> Int32
    let statementFetchColumn: @convention(c) (Statement?, UnsafeMutablePointer<MYSQL_BIND>?, UInt32, UInt) -> Int32
    let statementClose: @convention(c) (Statement?) -> CChar
    let statementErrorNumber: @convention(c) (Statement?) -> UInt32
    let statementErrorText: @convention(c) (Statement?) -> UnsafePointer<CChar>?

    /// The library's file name, as dlopen finds it.
    static let fileName = "libmariadb.so.3"

    /// Loads the library (`name`: another file, for tests), or says why it cannot (not installed,
    /// or a function missing).
    static func load(_ name: String = fileName) -> Swift.Result<MariaDBLibrary, LoadError> {
        guard let library = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(LoadError(description: "cannot load \(name) (\(reason))"))
        }
        func symbol<T>(_ symbolName: String, as type: T.Type) throws(LoadError) -> T {
            guard let address = dlsym(library, symbolName) else {
                throw LoadError(description: "\(name) has no function \(symbolName)")
            }
            return unsafeBitCast(address, to: type)
        }
        do {
            return .success(MariaDBLibrary(
                initialize: try symbol("mysql_init", as: (@convention(c) (Handle?) -> Handle?).self),
                options: try symbol("mysql_options", as: (@convention(c) (Handle?, mysql_option, UnsafeRawPointer?) -> Int32).self),
                connect: try symbol("mysql_real_connect", as: (@convention(c) (
                    Handle?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                    UInt32, UnsafePointer<CChar>?, UInt) -> Handle?).self),
                query: try symbol("mysql_real_query", as: (@convention(c) (Handle?, UnsafePointer<CChar>?, UInt) -> Int32).self),
                useResult: try symbol("mysql_use_result", as: (@convention(c) (Handle?) -> Result?).self),
                fieldCount: try symbol("mysql_num_fields", as: (@convention(c) (Result?) -> UInt32).self),
                fetchRow: try symbol("mysql_fetch_row", as: (@convention(c) (Result?) -> MYSQL_ROW?).self),
                fetchLengths: try symbol("mysql_fetch_lengths", as: (@convention(c) (Result?) -> UnsafeMutablePointer<UInt>?).self),
                freeResult: try symbol("mysql_free_result", as: (@convention(c) (Result?) -> Void).self),
                errorNumber: try symbol("mysql_errno", as: (@convention(c) (Handle?) -> UInt32).self),
                errorText: try symbol("mysql_error", as: (@convention(c) (Handle?) -> UnsafePointer<CChar>?).self),
                close: try symbol("mysql_close", as: (@convention(c) (Handle?) -> Void).self),
                statementInit: try symbol("mysql_stmt_init", as: (@convention(c) (Handle?) -> Statement?).self),
                statementPrepare: try symbol("mysql_stmt_prepare", as: (@convention(c) (Statement?, UnsafePointer<CChar>?, UInt) -> Int32).self),
                statementExecute: try symbol("mysql_stmt_execute", as: (@convention(c) (Statement?) -> Int32).self),
                statementFieldCount: try symbol("mysql_stmt_field_count", as: (@convention(c) (Statement?) -> UInt32).self),
                statementBindResult: try symbol("mysql_stmt_bind_result",
                                                as: (@convention(c) (Statement?, UnsafeMutablePointer<MYSQL_BIND>?) -> CChar).self),
                statementFetch: try symbol("mysql_stmt_fetch", as: (@convention(c) (Statement?) -> Int32).self),
                statementFetchColumn: try symbol("mysql_stmt_fetch_column", as: (@convention(c) (
                    Statement?, UnsafeMutablePointer<MYSQL_BIND>?, UInt32, UInt) -> Int32).self),
                statementClose: try symbol("mysql_stmt_close", as: (@convention(c) (Statement?) -> CChar).self),
                statementErrorNumber: try symbol("mysql_stmt_errno", as: (@convention(c) (Statement?) -> UInt32).self),
                statementErrorText: try symbol("mysql_stmt_error", as: (@convention(c) (Statement?) -> UnsafePointer<CChar>?).self)
            ))
        } catch {
            return .failure(error)
        }
    }

    /// Why the library could not be used.
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }
}
