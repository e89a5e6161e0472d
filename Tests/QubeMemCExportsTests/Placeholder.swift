import Testing

@Suite struct QubeMemCExportsTestsPlaceholder {
    @Test func packageBuilds() { #expect(Bool(true)) }
}
