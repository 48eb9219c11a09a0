import Foundation
import Testing
@testable import Snapmask

/// `date_shift` and `year_only` keep the exact text format of dates and timestamps.
@Suite struct DateTransformerTests {
    /// A date layout: how to write a date and where its year, month and day are.
    struct Layout: CustomStringConvertible, Sendable {
        var description: String
        var render: @Sendable (Int, Int, Int) -> String
        var year: Range<Int>, month: Range<Int>, day: Range<Int>
        /// Characters after the date, kept as they are.
        var suffixLength: Int
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        String(repeating: "0", count: max(0, width - String(value).count)) + String(value)
    }

    static let layouts: [Layout] = [
        Layout(description: "YYYY-MM-DD", render: { "\(pad($0, 4))-\(pad($1, 2))-\(pad($2, 2))" },
               year: 0..<4, month: 5..<7, day: 8..<10, suffixLength: 0),
        Layout(description: "YYYY-MM-DD HH:MM:SS.ffffff+02",
               render: { "\(pad($0, 4))-\(pad($1, 2))-\(pad($2, 2)) 13:45:07.123456+02" },
               year: 0..<4, month: 5..<7, day: 8..<10, suffixLength: 19),
        Layout(description: "YYYY-MM-DDTHH:MM:SSZ", render: { "\(pad($0, 4))-\(pad($1, 2))-\(pad($2, 2))T23:59:59Z" },
               year: 0..<4, month: 5..<7, day: 8..<10, suffixLength: 10),
        Layout(description: "DD.MM.YYYY", render: { "\(pad($2, 2)).\(pad($1, 2)).\(pad($0, 4))" },
               year: 6..<10, month: 3..<5, day: 0..<2, suffixLength: 0),
        Layout(description: "YYYYMMDD", render: { "\(pad($0, 4))\(pad($1, 2))\(pad($2, 2))" },
               year: 0..<4, month: 4..<6, day: 6..<8, suffixLength: 0),
    ]

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    static func date(_ text: String, _ layout: Layout) -> Date? {
        let characters = Array(text)
        func field(_ range: Range<Int>) -> Int? { Int(String(characters[range])) }
        guard let year = field(layout.year), let month = field(layout.month), let day = field(layout.day) else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }

    /// Sample dates, including month ends and leap days.
    static let samples: [(Int, Int, Int)] = {
        var random = SplitMix(state: 11)
        var dates = [(2024, 2, 29), (2000, 2, 29), (1999, 12, 31), (2021, 1, 1), (1970, 1, 1), (2023, 3, 1)]
        for _ in 0..<150 {
            let year = 1940 + random.below(90), month = 1 + random.below(12)
            dates.append((year, month, 1 + random.below(28)))
        }
        return dates
    }()

    @Test(arguments: layouts, [30, 180])
    func dateShiftKeepsTheFormatAndBoundsTheShift(layout: Layout, maxDays: Int) throws {
        let shift = try compile("date_shift", ["max_days": String(maxDays)])
        var shifts = Set<Int>()
        for (year, month, day) in Self.samples {
            let input = layout.render(year, month, day)
            let output = try masked(shift, input)
            #expect(output.count == input.count, "\(input) → \(output)")
            #expect(nonDigitLayout(output) == nonDigitLayout(input), "\(input) → \(output)")
            #expect(output.suffix(layout.suffixLength) == input.suffix(layout.suffixLength), "\(input) → \(output)")
            let before = try #require(Self.date(input, layout))
            let after = try #require(Self.date(output, layout), "\(output) is a valid date")
            let days = try #require(Self.calendar.dateComponents([.day], from: before, to: after).day)
            #expect(days != 0 && abs(days) <= maxDays, "\(input) → \(output) moved \(days) days")
            shifts.insert(days)
            #expect(try masked(shift, input) == output, "deterministic")
        }
        #expect(shifts.contains { $0 < 0 } && shifts.contains { $0 > 0 }, "shifts go both ways")
    }

    @Test func dateShiftRefusesWhatIsNotADate() throws {
        let shift = try compile("date_shift")
        for bad in ["yesterday", "2021-02-30", "2021-13-01", "31.02.2020", "2021-1-1"] {
            #expect(throws: MaskingError.self, "\(bad)") { try shift.mask(bad) }
        }
        #expect(try shift.mask("infinity") == "infinity")
    }

    @Test func yearOnly() throws {
        let yearOnly = try compile("year_only")
        let cases = [
            ("1984-07-19", "1984-01-01"),
            ("1984-07-19 08:15:00+02", "1984-01-01 00:00:00+02"),
            ("2021-03-04 10:11:12.123456+02", "2021-01-01 00:00:00.000000+02"),
            ("2021-03-04T10:11:12Z", "2021-01-01T00:00:00Z"),
            ("1999-12-31 23:59:59-05:30", "1999-01-01 00:00:00-05:30"),
            ("19.07.1984", "01.01.1984"),
            ("19840719", "19840101"),
            ("2020/02/29", "2020/01/01"),
        ]
        for (input, expected) in cases {
            #expect(try yearOnly.mask(input) == expected, "\(input)")
        }
        #expect(throws: MaskingError.self) { try yearOnly.mask("July 1984") }
    }
}
