/// Reads ISO-8601 / RFC 3339 date-times with a zone: `2026-11-26T10:00:00Z`, `2026-11-26T10:00:00.250+01:00`.
///
/// The zone is required (`Z`, `±hh:mm`, `±hhmm` or `±hh`); fractional seconds may have any number of digits and
/// are cut to milliseconds. Leap seconds (`:60`) are refused.
enum ISO8601DateTime {
    /// Unix milliseconds for `text`, or `nil` when it is not such a date-time.
    static func unixMilliseconds(_ text: String) -> Int64? {
        var scanner = Scanner(bytes: Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2)
        else {
            return nil
        }
        var millisecond: Int64 = 0
        if scanner.skip(".") {
            guard let fraction = scanner.fractionMilliseconds() else {
                return nil
            }
            millisecond = fraction
        }
        guard let offsetMinutes = scanner.zoneOffsetMinutes(), scanner.isAtEnd,
            (1...12).contains(month), (1...daysInMonth(month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else {
            return nil
        }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60 + second
        return seconds * 1000 + millisecond
    }

    private static func daysInMonth(_ month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's `days_from_civil`).
    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// A cursor over the ASCII bytes of the text.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var isAtEnd: Bool {
            index == bytes.count
        }

        mutating func skip(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else {
                return false
            }
            index += 1
            return true
        }

        /// Exactly `digits` decimal digits.
        mutating func number(digits: Int) -> Int64? {
            var value: Int64 = 0
            for _ in 0..<digits {
                guard let digit = digit() else {
                    return nil
                }
                value = value * 10 + digit
            }
            return value
        }

        /// One or more digits after the decimal point, as whole milliseconds.
        mutating func fractionMilliseconds() -> Int64? {
            var value: Int64 = 0
            var count = 0
            while let digit = digit() {
                if count < 3 {
                    value = value * 10 + digit
                }
                count += 1
            }
            guard count > 0 else {
                return nil
            }
            for _ in count..<max(count, 3) {
                value *= 10
            }
            return value
        }

        /// `Z`, or `+`/`-` then `hh:mm`, `hhmm` or `hh`, as minutes east of UTC.
        mutating func zoneOffsetMinutes() -> Int64? {
            if skip("Z") || skip("z") {
                return 0
            }
            let sign: Int64
            if skip("+") {
                sign = 1
            } else if skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let hours = number(digits: 2), hours < 24 else {
                return nil
            }
            if isAtEnd {
                return sign * hours * 60
            }
            let hasColon = skip(":")
            guard let minutes = number(digits: 2), minutes < 60, hasColon || isAtEnd else {
                return nil
            }
            return sign * (hours * 60 + minutes)
        }

        private mutating func digit() -> Int64? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                return nil
            }
            defer { index += 1 }
            return Int64(bytes[index] - UInt8(ascii: "0"))
        }
    }
}
