import Testing
@testable import Snapmask

/// The memo of recent outputs must never change what a row becomes: same bytes in, same bytes out
/// as masking without it, failures every time, and nothing remembered across byte-different
/// values that Swift would call equal strings.
@Suite struct FieldMemoTests {
    static let rules = """
        tables:
          public.customer:
            columns:
              customer_id: keep
              first_name: first_name
              birth_date: date_shift
        """

    func masker() throws -> DelimitedRowMasker {
        let key = try MaskingKey("field-memo-test-masking-key-0123")
        let rules = try CompiledRules.compile(try RuleSet.parse(Self.rules, file: "rules.yaml"), key: key)
        let table = TableShape(name: "public.customer", columns: [
            ColumnShape(name: "customer_id", typeName: "integer", category: .number),
            ColumnShape(name: "first_name", typeName: "text", category: .text),
            ColumnShape(name: "birth_date", typeName: "date", category: .date)])
        return DelimitedRowMasker(plan: TablePlan(table: table, rule: rules.table(named: table.name)), dialect: .postgres)
    }

    func batch(_ rows: [String]) -> RowBatch {
        RowBatch(data: Array(rows.map { $0 + "\n" }.joined().utf8), rowCount: rows.count, firstRow: 1)
    }

    /// Pagila-like rows whose names repeat, among them "José" composed and decomposed (equal as
    /// Swift strings, different bytes, so different fakes).
    @Test func repeatedValuesMaskAsWithoutTheMemo() throws {
        let names = ["MARY", "PATRICIA", "Jos\u{e9}", "Jose\u{301}", "LINDA", "MARY", "", "\\N", "BARBARA"]
        let rows = (0..<5_000).map { index in
            "\(index)\t\(names[index * 7 % names.count])\t19\(50 + index % 40)-0\(1 + index % 9)-1\(index % 10)"
        }
        let warm = try masker()
        let together = try warm.mask(batch(rows))
        let again = try warm.mask(batch(rows))
        let oneByOne = try rows.map { row in
            String(decoding: try masker().mask(batch([row])).data, as: UTF8.self)
        }.joined()
        #expect(String(decoding: together.data, as: UTF8.self) == oneByOne)
        #expect(again.data == together.data)
        // The warm memo has seen the composed form thousands of times; the decomposed one still gets its own fake.
        let decomposed = try warm.mask(batch(["1\tJose\u{301}\t1980-01-01"])).data
        #expect(decomposed == (try masker().mask(batch(["1\tJose\u{301}\t1980-01-01"])).data))
    }

    @Test func aValueThatFailsFailsEveryTime() throws {
        let masker = try masker()
        for _ in 0..<3 {
            #expect(throws: RowMaskingError.self) { try masker.mask(batch(["1\tMARY\tnot a date"])) }
        }
        _ = try masker.mask(batch(["1\tMARY\t1980-01-01"]))
        #expect(throws: RowMaskingError.self) { try masker.mask(batch(["2\tMARY\tnot a date"])) }
    }

    @Test func turnsItselfOffForValuesThatDoNotRepeat() {
        let memo = FieldMemo()
        for index in 0..<FieldMemo.trialLookups {
            let key = Array("user\(index)@example.com".utf8)
            key.withUnsafeBufferPointer { raw in
                #expect(memo.output(for: raw) == nil)
                memo.remember(raw, wrote: raw)
            }
        }
        #expect(!memo.isEnabled)

        let repeating = FieldMemo()
        let key = Array("MARY".utf8), fake = Array("Okonkwo".utf8)
        key.withUnsafeBufferPointer { raw in
            fake.withUnsafeBufferPointer { repeating.remember(raw, wrote: $0) }
            for _ in 0..<FieldMemo.trialLookups { #expect(repeating.output(for: raw).map(Array.init) == fake) }
        }
        #expect(repeating.isEnabled)
    }
}
