import Testing

@Suite struct QubeMemCLITestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
