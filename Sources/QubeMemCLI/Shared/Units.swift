import Foundation

/// Human formatting of byte counts, as QUBE's own tables print them.
enum Units {
    static let gibibyte = Double(1 << 30)

    /// Bytes as GiB with two decimals, right-aligned in 9 columns ("    57.21 GiB").
    static func gibColumn(_ bytes: UInt64) -> String {
        String(format: "%9.2f GiB", Double(bytes) / gibibyte)
    }

    /// Bytes as GiB with two decimals ("57.21 GiB").
    static func gib(_ bytes: UInt64) -> String {
        String(format: "%.2f GiB", Double(bytes) / gibibyte)
    }
}
