import MTDCore
import Testing
@testable import UEMClient

@Suite struct TagMappingTests {
    let uemTags = [
        "MTD – Activated", "MTD – Deactivated", "MTD – Disconnected", "MTD – Pending", "MTD – Unreachable", "MTD – Threats Present",
        "MTD – Secured", "MTD – Low Risk", "MTD – Medium Risk", "MTD – High Risk",
    ].enumerated().map { UEMTagInfo(id: $0.offset + 1, name: $0.element) }

    @Test func theSeedArticlesModerateRiskMistakeIsCaughtWithTheRightSuggestion() {
        var mapping = TagMapping()
        mapping.mediumRisk = "MTD – Moderate Risk"
        let problems = mapping.validate(against: uemTags)
        #expect(problems.count == 1)
        #expect(problems.first?.field == "mediumRisk")
        #expect(problems.first?.suggestion == "MTD – Medium Risk")
        #expect(problems.first?.description.contains("did you mean \"MTD – Medium Risk\"") == true)
    }

    @Test func dashVariantsAndSpacingAreTheSameTag() {
        var mapping = TagMapping()
        mapping.highRisk = "MTD - High  Risk"
        mapping.secured = "mtd — secured"
        #expect(mapping.validate(against: uemTags).isEmpty)
        #expect(TagMapping().validate(against: uemTags).isEmpty)
        #expect(TagMapping().validate(against: []).count == 10)
    }

    @Test func desiredTagsFollowTheDeviceState() {
        let mapping = TagMapping()
        #expect(mapping.desiredTags(activation: .pending, connection: .connected, security: .secure) == ["MTD – Pending"])
        #expect(mapping.desiredTags(activation: .activated, connection: .connected, security: .secure) == ["MTD – Activated", "MTD – Secured"])
        #expect(mapping.desiredTags(activation: .activated, connection: .connected, security: .threatsHigh)
            == ["MTD – Activated", "MTD – Threats Present", "MTD – High Risk"])
        #expect(mapping.desiredTags(activation: .activated, connection: .unreachable, security: .threatsMedium)
            == ["MTD – Activated", "MTD – Unreachable", "MTD – Threats Present", "MTD – Medium Risk"])
        #expect(mapping.desiredTags(activation: .deactivated, connection: .disconnected, security: .threatsHigh) == ["MTD – Deactivated"])
        #expect(mapping.desiredTags(activation: .deleted, connection: .connected, security: .secure).isEmpty)
        var partial = TagMapping()
        partial.secured = nil
        #expect(partial.desiredTags(activation: .activated, connection: .connected, security: .secure) == ["MTD – Activated"])
    }
}
