import Testing

@Suite struct QubeMemTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
