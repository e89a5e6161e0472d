// libFuzzer target `fits`: a QUBE run's HEALPix mask (qubemem predict --qube-config / --mask), read
// by HealpixMask through CFITSIO. CFITSIO is Debian's library, loaded with dlopen and not
// instrumented: what is fuzzed is our use of it (header values trusted for sizes, indexes, column
// counts). A thrown InputError is an answer; a trap or an ASan report in our code is a finding.
import CFuzzerDriver
import Foundation
import QubeMemInputs

/// The input is written to this file, one per process and reused (HealpixMask reads a path); it
/// is removed at exit (not after a crash: libFuzzer leaves with _Exit).
private let path: String = {
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    return "\(folder)/qubemem-fuzz-fits-\(getpid()).fits"
}()

/// ASan's options for this target, read before main. A header can make CFITSIO (not instrumented,
/// Debian's) ask calloc for more than ASan's 1 TiB limit (NAXIS2 = -48 asks for 15 PB): glibc's
/// calloc returns NULL there and CFITSIO reports MEMORY_ALLOCATION, so ASan must return NULL too.
/// Our own code still traps on a failed allocation (Swift's allocator checks), and libFuzzer's
/// -rss_limit_mb and -malloc_limit_mb still catch a big allocation that would succeed.
@_cdecl("__asan_default_options")
func asanDefaultOptions() -> UnsafePointer<CChar> {
    UnsafeRawPointer(("allocator_may_return_null=1" as StaticString).utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size)) else {
        fatalError("cannot write \(path)")
    }
    // T + QU first. A mask with another pixel count or fewer columns is read again with what the
    // error says it has (as a user would fix the config), so the fuzzer reaches the pixel values
    // of any map it makes.
    var nside = 1, spins = [0, 2]
    for _ in 0 ..< 3 {
        do {
            _ = try HealpixMask.unmaskedPixels(path: path, nside: nside, spins: spins)
            break
        } catch let .maskNside(_, pixels, _) {
            guard let n = nsideOf(pixels), n != nside else { break }
            nside = n
        } catch let .maskColumns(_, columns, _) {
            guard columns > 0 else { break }
            spins = columns == 1 ? [0] : [2]
        } catch {
            break
        }
    }
    return 0
}

/// The nside of a map of `pixels` pixels, up to HealpixMask's limit of 2^13: a header may claim a
/// map far larger than the input holds, and the reader must refuse it before it allocates for it.
private func nsideOf(_ pixels: Int) -> Int? {
    var n = 1
    while n <= 1 << 13 {
        if 12 * n * n == pixels { return n }
        n *= 2
    }
    return nil
}

atexit { unlink(path) }
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
