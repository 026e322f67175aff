#if canImport(Glibc)
import Glibc
#endif

/// Sunrise, sunset and the sun's elevation after NOAA's Solar Calculator
/// (the Meeus-based equations of NOAA's spreadsheet and web calculator):
/// sunrise and sunset are when the sun's upper limb touches the horizon,
/// refraction included (zenith 90.833°). Accurate to well under a minute
/// between the polar circles; beyond them, a day may have no sunrise or no
/// sunset at all, which is an answer of its own, not an error.
public enum SolarCalculator {
    public enum Event: Equatable, Sendable {
        /// Unix milliseconds.
        case at(Int64)
        /// The sun stays above the horizon all day (polar day).
        case alwaysUp
        /// The sun stays below the horizon all day (polar night).
        case alwaysDown

        public var millis: Int64? {
            if case .at(let t) = self { return t }
            return nil
        }
    }

    /// The zenith of sunrise and sunset: 90° plus refraction (34') and the
    /// sun's semi-diameter (16').
    public static let horizonZenith = 90.833

    // MARK: calendar

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func daysFromCivil(_ y: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y - 1 : y
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The date of a day number (inverse of `daysFromCivil`).
    public static func civilFromDays(_ z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }

    // MARK: NOAA equations

    private static func rad(_ d: Double) -> Double { d * Double.pi / 180 }
    private static func deg(_ r: Double) -> Double { r * 180 / Double.pi }

    /// Julian centuries since J2000.0 of a Julian day.
    private static func century(_ jd: Double) -> Double { (jd - 2451545.0) / 36525.0 }

    private static func meanLongitude(_ t: Double) -> Double {
        var l = 280.46646 + t * (36000.76983 + t * 0.0003032)
        l = l.truncatingRemainder(dividingBy: 360)
        return l < 0 ? l + 360 : l
    }

    private static func meanAnomaly(_ t: Double) -> Double { 357.52911 + t * (35999.05029 - 0.0001537 * t) }
    private static func eccentricity(_ t: Double) -> Double { 0.016708634 - t * (0.000042037 + 0.0000001267 * t) }

    private static func equationOfCenter(_ t: Double) -> Double {
        let m = rad(meanAnomaly(t))
        return sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) + sin(2 * m) * (0.019993 - 0.000101 * t) + sin(3 * m) * 0.000289
    }

    private static func apparentLongitude(_ t: Double) -> Double {
        let omega = 125.04 - 1934.136 * t
        return meanLongitude(t) + equationOfCenter(t) - 0.00569 - 0.00478 * sin(rad(omega))
    }

    private static func obliquity(_ t: Double) -> Double {
        let seconds = 21.448 - t * (46.8150 + t * (0.00059 - t * 0.001813))
        let mean = 23.0 + (26.0 + seconds / 60.0) / 60.0
        return mean + 0.00256 * cos(rad(125.04 - 1934.136 * t))
    }

    /// Degrees.
    static func declination(_ t: Double) -> Double {
        deg(asin(sin(rad(obliquity(t))) * sin(rad(apparentLongitude(t)))))
    }

    /// Minutes of time.
    static func equationOfTime(_ t: Double) -> Double {
        let eps = obliquity(t), l0 = rad(meanLongitude(t)), e = eccentricity(t), m = rad(meanAnomaly(t))
        var y = tan(rad(eps) / 2)
        y *= y
        let v = y * sin(2 * l0) - 2 * e * sin(m) + 4 * e * y * sin(m) * cos(2 * l0)
            - 0.5 * y * y * sin(4 * l0) - 1.25 * e * e * sin(2 * m)
        return deg(v) * 4
    }

    /// The cosine of the sunrise hour angle: outside [-1, 1] the sun does not
    /// cross the horizon that day.
    private static func cosHourAngle(latitude: Double, declination: Double) -> Double {
        let lat = rad(latitude), d = rad(declination)
        return cos(rad(horizonZenith)) / (cos(lat) * cos(d)) - tan(lat) * tan(d)
    }

    /// Minutes after 0:00 UTC of the UTC day `jd0` (its Julian day at 0h).
    private static func eventMinutes(rise: Bool, jd: Double, latitude: Double, longitude: Double) -> Event? {
        let t = century(jd)
        let c = cosHourAngle(latitude: latitude, declination: declination(t))
        if c < -1 { return .alwaysUp }
        if c > 1 { return .alwaysDown }
        var ha = deg(acos(c))
        if !rise { ha = -ha }
        let minutes = 720 - 4 * (longitude + ha) - equationOfTime(t)
        return .at(Int64((minutes * 60_000).rounded()))
    }

    /// Sunrise or sunset on UTC day `days` (days since 1970) at a place
    /// (longitude east positive): NOAA's two passes, the second at the
    /// first's time of day.
    public static func event(rise: Bool, utcDay days: Int, latitude: Double, longitude: Double) -> Event {
        let jd0 = Double(days) + 2440587.5
        guard case .at(let first)? = eventMinutes(rise: rise, jd: jd0, latitude: latitude, longitude: longitude) else {
            return eventMinutes(rise: rise, jd: jd0 + 0.5, latitude: latitude, longitude: longitude) ?? .alwaysDown
        }
        let second = eventMinutes(rise: rise, jd: jd0 + Double(first) / 86_400_000, latitude: latitude, longitude: longitude)
        // Near the polar circles the refined pass may fall off the edge; the
        // first answer is then the better one.
        let msOfDay: Int64
        if case .at(let s)? = second { msOfDay = s } else { msOfDay = first }
        return .at(Int64(days) * 86_400_000 + msOfDay)
    }

    /// The sun's elevation in degrees at `millis` (no refraction).
    public static func elevation(atMillis millis: Int64, latitude: Double, longitude: Double) -> Double {
        let jd = Double(millis) / 86_400_000 + 2440587.5
        let t = century(jd)
        let utcMinutes = (Double(millis).truncatingRemainder(dividingBy: 86_400_000) + 86_400_000)
            .truncatingRemainder(dividingBy: 86_400_000) / 60_000
        var trueSolar = (utcMinutes + equationOfTime(t) + 4 * longitude).truncatingRemainder(dividingBy: 1440)
        if trueSolar < 0 { trueSolar += 1440 }
        let hourAngle = trueSolar / 4 - 180
        let lat = rad(latitude), d = rad(declination(t))
        let cosZenith = max(-1, min(1, sin(lat) * sin(d) + cos(lat) * cos(d) * cos(rad(hourAngle))))
        return 90 - deg(acos(cosZenith))
    }

    /// Sunrise or sunset on a local calendar date: of the events on the UTC
    /// days around it, the one that falls on that local date. `localDay`
    /// maps an instant to its local day number (the time zone).
    public static func event(rise: Bool, localDay day: Int, latitude: Double, longitude: Double,
                             localDayOf: (Int64) -> Int) -> Event {
        var polar: Event?
        for utc in (day - 1)...(day + 1) {
            let e = event(rise: rise, utcDay: utc, latitude: latitude, longitude: longitude)
            switch e {
            case .at(let t): if localDayOf(t) == day { return e }
            default: if utc == day { polar = e }
            }
        }
        if let polar { return polar }
        // No crossing that falls on this local date (rare, close to the polar
        // circles): say which side of the horizon the sun is at local noon.
        let noon = Int64(day) * 86_400_000 + 43_200_000 - Int64(longitude * 240_000)
        return elevation(atMillis: noon, latitude: latitude, longitude: longitude) > -0.833 ? .alwaysUp : .alwaysDown
    }
}
