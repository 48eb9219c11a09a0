import Foundation
import Testing
@testable import Snapmask

/// The subset: section's rule-file errors, and the key sets behind it.
@Suite struct SubsetRulesTests {
    static let tables = """
        tables:
          users: { columns: { id: keep } }
        """

    @Test func rootsAndReferencesAreRead() throws {
        let rules = try RuleSet.parse(Self.tables + """

            subset:
              roots:
                - { table: users, percent: 5 }
                - { table: orders, limit: 10, order_by: created_at DESC }
              references:
                - { from: "events(user_id)", to: "users(id)", virtual: true, max_children: 4 }
                - { from: "orders(user_id)", to: "users(id)", on_missing_parent: null }
            """, file: "rules.yaml")
        let subset = try #require(rules.subset)
        #expect(subset.roots.map(\.selection) == [.percent(5), .limit(10, orderBy: "created_at DESC")])
        #expect(subset.references[0].virtual && subset.references[0].maxChildren == 4)
        #expect(subset.references[1].onMissingParent == .null && subset.references[1].childColumns == ["user_id"])
    }

    @Test func mistakesAreNamedWithTheirLine() throws {
        #expect {
            _ = try RuleSet.parse(Self.tables + """

                subset:
                  roots:
                    - { table: users, percent: 0 }
                    - { table: users, where: "a = 1", percent: 3 }
                    - { table: users, where: "a = 1; DROP TABLE users" }
                  references:
                    - { from: "events(user_id, x)", to: "users(id)" }
                    - { from: "events", to: "users(id)" }
                """, file: "rules.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.contains("rules.yaml:6:") && text.contains("percent must be a number above 0")
                && text.contains("needs exactly one of where:, percent: or limit:")
                && text.contains("holds a ';' outside a quoted string")
                && text.contains("from: names 2 column(s) and to: 1")
                && text.contains("'events' must be TABLE(column, ...)")
        }
        #expect {
            _ = try RuleSet.parse("collections:\n  a: { fields: { _id: keep } }\nsubset:\n  roots: [{ collection: a, percent: 5 }]\n"
                                      + "  references: [{ from: \"a(b)\", to: \"c(_id)\", on_missing_parent: null }]\n", file: "r.yaml")
        } throws: { "\($0)".contains("on_missing_parent: null is for SQL tables") }
    }

    @Test func keySetsHoldEveryKeyAndMoveToAFileWhenLarge() throws {
        let set = KeyHashSet(memoryBytes: 64 << 10)
        for key in 0..<200_000 { try set.insert(KeyDigest.of(["\(key)"])) }
        #expect(set.isSpilled && set.count == 200_000)
        #expect((0..<200_000).allSatisfy { set.contains(KeyDigest.of(["\($0)"])) })
        #expect((200_000..<210_000).filter { set.contains(KeyDigest.of(["\($0)"])) }.isEmpty)
        #expect(try !set.insert(KeyDigest.of(["7"])), "a key already there")
        #expect(try set.insert(0) && set.contains(0))
    }

    @Test func digestsTellNullsAndTuplesApart() {
        #expect(KeyDigest.of([nil]) != KeyDigest.of([""]))
        #expect(KeyDigest.of(["ab", "c"]) != KeyDigest.of(["a", "bc"]))
        let share = (0..<100_000).filter { KeyDigest.inPercent(KeyDigest.of(["\($0)"]), 5) }.count
        #expect((4_500...5_500).contains(share), "about 5 %: \(share)")
    }
}
