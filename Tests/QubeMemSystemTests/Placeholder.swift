import Testing

@Suite struct QubeMemSystemTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
