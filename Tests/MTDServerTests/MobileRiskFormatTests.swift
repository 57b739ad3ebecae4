import Foundation
@testable import MobileRiskAPI
import MTDStore
import Testing

/// The Mobile Risk API's hand-written formats: event ids, timestamps, UUID text.
struct MobileRiskFormatTests {
    @Test func eventIDsSortInLogOrderAndReadBack() {
        let positions = [1, 9, 10, 255, 256, 4_095, 1_000_000, (1 << 60) - 1]
        let ids = positions.map(EventStreamID.encode)
        #expect(ids == ids.sorted())
        #expect(ids.allSatisfy { $0.count == 36 && UUID(uuidString: $0) != nil })
        for (position, id) in zip(positions, ids) {
            #expect(EventStreamID.decode(id) == .position(position))
            #expect(EventStreamID.decode(id.uppercased()) == .position(position))
        }
        #expect(EventStreamID.decode("42") == .position(42))
        for none in [nil, "", "0", "None", "null", " "] as [String?] { #expect(EventStreamID.decode(none) == .none) }
        for unknown in ["01969f85-f6d8-73bd-bcbc-a38948f21386", "abc", "-1", "99999999999999999999999", "00000000-0000-7000-8000-00000000000g"] {
            #expect(EventStreamID.decode(unknown) == .unknown, "\(unknown)")
        }
    }

    @Test func timestampsHaveMillisecondsAndAnOffset() {
        #expect(RenderedEvent.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000+00:00")
        #expect(RenderedEvent.timestamp(Date(timeIntervalSince1970: 1_740_045_318.817)) == "2025-02-20T09:55:18.817+00:00")
        #expect(RenderedEvent.timestamp(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000+00:00")
        #expect(RenderedEvent.timestamp(Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999+00:00")
        // Against Foundation on many days, leap years included.
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC") ?? .current)
        for day in stride(from: 0, to: 30_000, by: 37) {
            // Half a second is exact in binary: both sides must agree to the millisecond.
            let date = Date(timeIntervalSince1970: Double(day) * 86_400 + 45_296.5)
            #expect(RenderedEvent.timestamp(date) == date.formatted(style).replacingOccurrences(of: "Z", with: "+00:00"))
        }
        // Outside what the fast path covers: still a valid time, never a trap.
        #expect(RenderedEvent.timestamp(Date(timeIntervalSince1970: -1)).hasPrefix("1969-12-31T23:59:59"))
        _ = RenderedEvent.timestamp(Date(timeIntervalSince1970: 1e15))
    }

    @Test func uuidTextRoundTripsAndRefusesAnythingElse() {
        for _ in 0..<200 {
            let uuid = UUID()
            #expect(UUIDText.lowercase(uuid) == uuid.uuidString.lowercased())
            #expect(UUIDText.parse(uuid.uuidString) == uuid)
            #expect(UUIDText.parse(uuid.uuidString.lowercased()) == uuid)
        }
        for bad in ["", "not-a-uuid", "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-0000000000000",
                    "00000000x0000-0000-0000-000000000000", "g0000000-0000-0000-0000-000000000000", "0000000000000000000000000000000000000"] {
            #expect(UUIDText.parse(bad) == nil, "\(bad)")
        }
    }
}
