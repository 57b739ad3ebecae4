import MTDCore
import Testing

@Suite struct ValueTypeTests {
    @Test func digestsIgnoreCaseAndColons() {
        let plain = HexDigest("31A6ECECD97CF39BC4126B8745CD94A7C30BF81C")
        let colons = HexDigest("31:a6:ec:ec:d9:7c:f3:9b:c4:12:6b:87:45:cd:94:a7:c3:0b:f8:1c")
        #expect(plain != nil)
        #expect(plain == colons)
        #expect(plain?.kind == .sha1)
        #expect(plain?.description == "31a6ececd97cf39bc4126b8745cd94a7c30bf81c")
        #expect(HexDigest("275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f")?.kind == .sha256)
    }

    @Test func malformedDigestsAreRejected() {
        #expect(HexDigest("xyz") == nil)
        #expect(HexDigest("abcd") == nil)
        #expect(HexDigest(String(repeating: "a", count: 65)) == nil)
        #expect(HexDigest(String(repeating: "g", count: 40)) == nil)
    }

    @Test func daysAreCivilDates() {
        #expect(Timestamp.day("1970-01-01") == 0)
        #expect(Timestamp.day("2026-11-20") == 20_777)
        #expect(Timestamp.string(fromDay: 20_777) == "2026-11-20")
        #expect(Timestamp.day("2026-02-29") == nil)
        #expect(Timestamp.day("2024-02-29") != nil)
        #expect(Timestamp.day("20261120") == nil)
        #expect(Timestamp.isDateTime("2026-11-19T16:02:11Z"))
        #expect(Timestamp.isDateTime("2026-11-19T16:02:11.123+01:00"))
        #expect(!Timestamp.isDateTime("2026-11-19"))
    }

    @Test func suggestionsFindTypos() {
        #expect(Suggestion.closest(to: "ROOT_JAILBRAKE", in: ["ROOT_JAILBREAK", "ROOT_ENABLER"]) == "ROOT_JAILBREAK")
        #expect(Suggestion.closest(to: "completely different", in: ["ROOT_JAILBREAK"]) == nil)
    }

    @Test func sleepIntervalsNeverTrapOnValuesFromSettingsOrPeers() {
        #expect(SleepInterval.nanoseconds(1.5) == 1_500_000_000)
        #expect(SleepInterval.nanoseconds(0) == 0)
        // Each of these trapped in UInt64(seconds * 1e9).
        #expect(SleepInterval.nanoseconds(-5) == 0)
        #expect(SleepInterval.nanoseconds(.nan) == 0)
        #expect(SleepInterval.nanoseconds(-.infinity) == 0)
        #expect(SleepInterval.nanoseconds(.infinity) == UInt64(SleepInterval.longestSeconds * 1e9))
        #expect(SleepInterval.nanoseconds(1e300) == UInt64(SleepInterval.longestSeconds * 1e9))
    }
}
