import Testing

@Suite struct QubeMemSlurmTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
