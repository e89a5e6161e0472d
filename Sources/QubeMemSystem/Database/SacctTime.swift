#if canImport(Glibc)
import Glibc
#endif

/// sacct's time syntax, the forms an audit window uses, as Unix seconds (local time).
public enum SacctTime {
    /// `now`, `now-7days` (`seconds`, `minutes`, `hours`, `days`, `weeks`, singular too), `+` as
    /// well as `-`, `2026-11-21`, `2026-11-21T08:00` and `2026-11-21T08:00:30`; nil for the rest.
    public static func parse(_ text: String, now: Int64) -> Int64? {
        if text == "now" { return now }
        if text.hasPrefix("now") {
            let rest = text.dropFirst(3)
            guard let sign = rest.first, sign == "-" || sign == "+" else { return nil }
            let body = rest.dropFirst()
            let digits = body.prefix { $0.isASCII && $0.isNumber }
            guard let count = Int64(digits), count < 100_000_000 else { return nil }
            let unit: Int64
            switch body.dropFirst(digits.count) {
            case "", "s", "sec", "second", "seconds": unit = 1
            case "min", "minute", "minutes": unit = 60
            case "h", "hour", "hours": unit = 3600
            case "d", "day", "days": unit = 86_400
            case "w", "week", "weeks": unit = 604_800
            default: return nil
            }
            return sign == "-" ? now - count * unit : now + count * unit
        }
        let parts = text.split(separator: "T", maxSplits: 1, omittingEmptySubsequences: false)
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard date.count == 3, let y = Int32(date[0]), let mo = Int32(date[1]), let d = Int32(date[2]),
              date[0].count == 4, (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var h: Int32 = 0, mi: Int32 = 0, s: Int32 = 0
        if parts.count == 2 {
            let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard clock.count == 2 || clock.count == 3, let hh = Int32(clock[0]), let mm = Int32(clock[1]),
                  (0...23).contains(hh), (0...59).contains(mm) else { return nil }
            h = hh
            mi = mm
            if clock.count == 3 {
                guard let ss = Int32(clock[2]), (0...59).contains(ss) else { return nil }
                s = ss
            }
        }
        var t = tm()
        t.tm_year = y - 1900
        t.tm_mon = mo - 1
        t.tm_mday = d
        t.tm_hour = h
        t.tm_min = mi
        t.tm_sec = s
        t.tm_isdst = -1
        let seconds = mktime(&t)
        return seconds == -1 ? nil : Int64(seconds)
    }

    /// What `parse` accepts, for messages.
    public static let validForms = "now, now-7days (seconds, minutes, hours, days, weeks), 2026-11-21, 2026-11-21T08:00[:30]"
}
