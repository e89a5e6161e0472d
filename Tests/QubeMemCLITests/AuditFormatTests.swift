import Testing

import QubeMem
@testable import QubeMemCLI

@Suite struct AuditFormatTests {
    @Test func bytesFormatterWritesWhatTheStringFormatterWrites() {
        var values: [Double] = [0, 0.004, 0.005, 0.995, 1, 1.5, 2.675, 999.999, 1000, 1536, 1e12, 8.9e15, 9.5e18, -0, -0.001, -2.5,
                                .infinity, -.infinity, .nan, 1.0 / 3, 123_456.789]
        var x = 0.000_123
        for _ in 0..<200 {
            values.append(x)
            x *= 1.37
        }
        for value in values {
            for places in [0, 1, 2] {
                var bytes: [UInt8] = []
                AuditFormat.appendFixed(value, places, to: &bytes)
                #expect(String(decoding: bytes, as: UTF8.self) == AuditFormat.fixed(value, places), "\(value) \(places)")
            }
        }
        for n: UInt64 in [0, 9, 10, 99, 100, 12_345, UInt64.max] {
            var bytes: [UInt8] = []
            DecimalDigits.append(n, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(n))
        }
    }
}
