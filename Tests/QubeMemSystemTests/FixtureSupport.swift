import Foundation

/// The folder that plays /proc in the fixture tests (a copy of real files, pids rewritten:
/// 4242 python3 child of 4000; 4243 its child, named "worker) (x"; 4301 a zombie child of 4243;
/// 4300 an unrelated bash; 4000, the profiler, has only its main thread's children list).
enum Fixtures {
    static var proc: String {
        (Bundle.module.resourcePath ?? ".") + "/Fixtures/proc"
    }

    static func bytes(_ relative: String) -> [UInt8] {
        (FileManager.default.contents(atPath: proc + "/" + relative)).map { [UInt8]($0) } ?? []
    }
}
