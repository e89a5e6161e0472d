import Glibc

/// A file (or standard input, `-`) read in chunks, for inputs too large to hold: an audit's sacct
/// dump of millions of rows goes through a 1 MiB buffer.
public enum StreamedFile {
    /// Why a file could not be read; the message names the file and the system's reason.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        case cannotRead(path: String, reason: String)

        public var description: String {
            switch self {
            case let .cannotOpen(path, reason): "cannot open '\(path)': \(reason)"
            case let .cannotRead(path, reason): "cannot read '\(path)': \(reason)"
            }
        }
    }

    /// Passes the file's size in bytes (when it is a regular file; nil for a pipe) to `sized`, then
    /// its contents, in order and in chunks of up to `chunkBytes`, to `body`.
    public static func read(
        _ path: String, chunkBytes: Int = 1 << 20, sized: (Int) -> Void = { _ in },
        _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(Failure) {
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw .cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        }
        defer { if fd != 0 { close(fd) } }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size > 0 { sized(Int(info.st_size)) }
        var buffer = [UInt8](repeating: 0, count: max(chunkBytes, 1))
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotRead(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { return }
            buffer.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
    }
}

/// The process's standard streams, as a report needs to know them.
public enum Terminal {
    /// Whether standard output is a terminal (tables are coloured only there).
    public static var standardOutputIsTerminal: Bool { isatty(1) == 1 }
}
