#if canImport(Glibc)
import Glibc
#endif
import XCTest
@testable import AutoHomePlugins
import AutoHomeSupport

/// Sun times against published tables (timeanddate.com figures, as used by
/// the astral and Astro libraries' own tests), polar day and night, and the
/// event schedule on a controlled clock (restart, clock steps, DST).
final class SunTests: XCTestCase {
    struct Place { let name: String; let lat: Double; let lon: Double; let utcOffsetMin: Int }
    static let london = Place(name: "London", lat: 51.50853, lon: -0.12574, utcOffsetMin: 0)
    static let nyc = Place(name: "New York", lat: 40.7128, lon: -74.0060, utcOffsetMin: -300)
    static let sydney = Place(name: "Sydney", lat: -33.8559799094, lon: 151.20666584, utcOffsetMin: 660)
    static let moscow = Place(name: "Moscow", lat: 55.7558, lon: 37.6173, utcOffsetMin: 180)
    static let wellington = Place(name: "Wellington", lat: -41.2865, lon: 174.7762, utcOffsetMin: 780)

    /// (place, y, m, d, sunrise "HH:MM[:SS]", sunset) in the place's local time.
    static let table: [(Place, Int, Int, Int, String, String)] = [
        (london, 2015, 1, 1, "08:06", "16:01"),
        (london, 2015, 12, 1, "07:43", "15:55"),
        (london, 2015, 12, 12, "07:56", "15:51"),
        (london, 2015, 12, 25, "08:05", "15:55"),
        (nyc, 2019, 12, 1, "07:00", "16:29"),
        (nyc, 2019, 12, 10, "07:08", "16:28"),
        (nyc, 2019, 12, 21, "07:16", "16:31"),
        (nyc, 2019, 12, 31, "07:19", "16:38"),
        (sydney, 2019, 12, 1, "05:37", "19:50"),
        (sydney, 2019, 12, 13, "05:37", "20:00"),
        (sydney, 2019, 12, 31, "05:46", "20:09"),
        (moscow, 2019, 12, 1, "08:34", "16:02"),
        (moscow, 2019, 12, 15, "08:52", "15:56"),
        (moscow, 2019, 12, 31, "08:59", "16:05"),
        (wellington, 2020, 2, 11, "06:38:42", "20:31:00"),
    ]

    static func fixedZone(_ offsetMin: Int) -> (Int64) -> Int {
        { ms in
            let local = ms + Int64(offsetMin) * 60_000
            return Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
        }
    }

    static func localMillis(_ p: Place, _ y: Int, _ m: Int, _ d: Int, _ hhmm: String) -> Int64 {
        let parts = hhmm.split(separator: ":").map { Int64($0)! }
        let secs = parts[0] * 3600 + parts[1] * 60 + (parts.count > 2 ? parts[2] : 0)
        return Int64(SolarCalculator.daysFromCivil(y, m, d)) * 86_400_000 + secs * 1000 - Int64(p.utcOffsetMin) * 60_000
    }

    func testSunriseAndSunsetMatchPublishedTablesWithinAMinute() {
        var worst: Int64 = 0
        for (p, y, m, d, rise, set) in SunTests.table {
            let day = SolarCalculator.daysFromCivil(y, m, d)
            for (isRise, published) in [(true, rise), (false, set)] {
                let e = SolarCalculator.event(rise: isRise, localDay: day, latitude: p.lat, longitude: p.lon,
                                              localDayOf: SunTests.fixedZone(p.utcOffsetMin))
                guard let t = e.millis else { XCTFail("\(p.name) \(y)-\(m)-\(d): no \(isRise ? "sunrise" : "sunset")"); continue }
                // A table minute "07:43" covers 07:43:00-07:43:59; measure from its middle
                // unless the table gives seconds.
                let mark = SunTests.localMillis(p, y, m, d, published) + (published.count == 5 ? 30_000 : 0)
                let diff = abs(t - mark)
                worst = max(worst, diff)
                XCTAssertLessThanOrEqual(diff, 60_000, "\(p.name) \(y)-\(m)-\(d) \(isRise ? "sunrise" : "sunset"): \(diff / 1000) s off \(published)")
            }
        }
        print("sun: \(SunTests.table.count * 2) published times, worst difference \(Double(worst) / 1000) s")
    }

    func testPolarDayAndNight() {
        let tromsoLat = 69.6, tromsoLon = 18.8
        let zone = SunTests.fixedZone(60)
        let june = SolarCalculator.daysFromCivil(2019, 6, 5)
        XCTAssertEqual(SolarCalculator.event(rise: true, localDay: june, latitude: tromsoLat, longitude: tromsoLon, localDayOf: zone), .alwaysUp)
        XCTAssertEqual(SolarCalculator.event(rise: false, localDay: june, latitude: tromsoLat, longitude: tromsoLon, localDayOf: zone), .alwaysUp)
        let dec = SolarCalculator.daysFromCivil(2019, 12, 15)
        XCTAssertEqual(SolarCalculator.event(rise: true, localDay: dec, latitude: tromsoLat, longitude: tromsoLon, localDayOf: zone), .alwaysDown)
        let sun = SunPlugin(config: SunConfig(latitude: tromsoLat, longitude: tromsoLon), timers: TimerService(), localDayOf: zone)
        XCTAssertFalse(sun.isDark(at: Int64(june) * 86_400_000), "midnight sun")
        XCTAssertTrue(sun.isDark(at: Int64(dec) * 86_400_000 + 11 * 3_600_000), "polar night at noon")
        XCTAssertNil(sun.nextDue(.sunset, after: Int64(june) * 86_400_000), "no sunset for days in June")
        // In the middle latitudes isDark follows sunrise and sunset.
        let london = SunPlugin(config: SunConfig(latitude: 51.5, longitude: -0.12), timers: TimerService(), localDayOf: SunTests.fixedZone(0))
        let day = SolarCalculator.daysFromCivil(2015, 12, 1)
        let rise = london.event(.sunrise, localDay: day).millis!, set = london.event(.sunset, localDay: day).millis!
        XCTAssertTrue(london.isDark(at: rise - 120_000))
        XCTAssertFalse(london.isDark(at: rise + 120_000))
        XCTAssertFalse(london.isDark(at: set - 120_000))
        XCTAssertTrue(london.isDark(at: set + 120_000))
    }

    final class Clock: @unchecked Sendable {
        let lock = Lock()
        var t: Int64 = 0
        func now() -> Int64 { lock.withLock { t } }
        func set(_ v: Int64) { lock.withLock { t = v } }
    }

    final class Fired: @unchecked Sendable {
        let lock = Lock()
        var events: [(SunPlugin.Kind, Int64)] = []
        func add(_ k: SunPlugin.Kind, _ d: JSON) { lock.withLock { events.append((k, Int64(d["time"]!.numberValue!))) } }
        var count: Int { lock.withLock { events.count } }
    }

    func testEventsFireOnTheirMinuteOnceAndNotAgainAfterARestartOrAClockStep() {
        let clock = Clock()
        let timers = TimerService(name: "sun-test")
        defer { timers.stop() }
        let cfg = SunConfig(latitude: 51.50853, longitude: -0.12574, sunriseOffsetMinutes: 15, sunsetOffsetMinutes: -30)
        let zone = SunTests.fixedZone(0)
        let day = SolarCalculator.daysFromCivil(2015, 12, 1)
        let sun = SunPlugin(config: cfg, timers: timers, now: clock.now, localDayOf: zone)
        let sunset = sun.event(.sunset, localDay: day).millis!
        let due = sunset - 30 * 60_000
        XCTAssertEqual(sun.nextDue(.sunset, after: due - 1)?.due, due)
        let fired = Fired()
        clock.set(due - 5_000)
        sun.start(fire: fired.add)
        XCTAssertEqual(fired.count, 0)
        clock.set(due + 1_000)
        sun.tick()
        XCTAssertEqual(fired.count, 1)
        XCTAssertEqual(fired.events.first?.0, .sunset)
        XCTAssertEqual(fired.events.first?.1, due, "the event carries its own minute")
        sun.tick()
        clock.set(due - 3_600_000)  // NTP steps the clock back an hour
        sun.tick()
        clock.set(due + 2_000)
        sun.tick()
        XCTAssertEqual(fired.count, 1, "never twice for one sunset")
        sun.stop()

        // A restart a minute after the event: it is not fired late; tomorrow's is next.
        let again = SunPlugin(config: cfg, timers: timers, now: clock.now, localDayOf: zone)
        let fired2 = Fired()
        clock.set(due + 60_000)
        again.start(fire: fired2.add)
        XCTAssertEqual(fired2.count, 0)
        let tomorrow = again.nextDue(.sunset, after: clock.now())!.due
        XCTAssertEqual(tomorrow, again.event(.sunset, localDay: day + 1).millis! - 30 * 60_000)
        // The clock jumps far past an event (a Pi without RTC getting NTP time): skipped, not fired late.
        clock.set(tomorrow + 3 * 3_600_000)
        again.tick()
        XCTAssertEqual(fired2.count, 0)
        clock.set(again.nextDue(.sunrise, after: clock.now())!.due)
        again.tick()
        XCTAssertEqual(fired2.events.map(\.0), [.sunrise])
        again.stop()
    }

    func testLocalDaysFollowTheTimeZoneAcrossDST() {
        let saved = getenv("TZ").map { String(cString: $0) }
        setenv("TZ", "Europe/London", 1)
        tzset()
        defer {
            if let saved { setenv("TZ", saved, 1) } else { unsetenv("TZ") }
            tzset()
        }
        let sun = SunPlugin(config: SunConfig(latitude: 51.50853, longitude: -0.12574), timers: TimerService())
        // 2015-03-29: clocks go forward at 01:00 UTC.
        let before = SolarCalculator.daysFromCivil(2015, 3, 28), after = before + 1
        let r1 = sun.event(.sunrise, localDay: before).millis!, r2 = sun.event(.sunrise, localDay: after).millis!
        XCTAssertTrue(LocalTime.describe(r1).hasSuffix("+0000"), LocalTime.describe(r1))
        XCTAssertTrue(LocalTime.describe(r2).hasSuffix("+0100"), LocalTime.describe(r2))
        XCTAssertEqual(sun.nextDue(.sunrise, after: r1)?.due, r2, "the next sunrise after the change is the next day's")
        let gap = r2 - r1
        XCTAssertTrue(gap > 23 * 3_600_000 && gap < 25 * 3_600_000, "\(gap)")
        print("sun: London sunrise \(LocalTime.describe(r1)) then \(LocalTime.describe(r2))")
    }
}
