import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing

/// `snapmask subset plan` prints the estimate, then the exact counts and the path by which each
/// table was reached, and writes nothing.
@Suite struct SubsetCommandTests {
    static let sourceSQL = """
        CREATE TABLE customer (id int PRIMARY KEY, email text NOT NULL);
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer);
        CREATE TABLE countries (code text PRIMARY KEY);
        INSERT INTO customer SELECT g, 'c' || g || '@mail.example.org' FROM generate_series(1, 400) g;
        INSERT INTO orders SELECT g, g % 400 + 1 FROM generate_series(1, 1200) g;
        INSERT INTO countries VALUES ('FR'), ('DE');
        ANALYZE;
        """

    static let rules = """
        tables:
          customer: { columns: { id: keep, email: email } }
          orders: { columns: { id: keep, customer_id: keep } }
          countries: { columns: { code: keep } }
        subset:
          roots:
            - table: customer
              where: "id <= 40"
        """

    @Test func planPrintsEstimatesThenExactCounts() throws {
        let scratch = try PostgresScratch("clisubset")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules)
        defer { job.remove() }
        let result = try CommandRunner.run(["subset", "plan", "--config", job.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("public.countries") && $0.contains("all") && $0.contains("not connected to a root") })
        #expect(lines.contains { $0.hasPrefix("public.customer") && $0.split(separator: " ").contains("40") && $0.hasSuffix("root (where: id <= 40)") },
                "\(result.stdout)")
        #expect(lines.contains { $0.hasPrefix("public.orders") && $0.split(separator: " ").contains("120") && $0.hasSuffix("children of public.customer via public.orders(customer_id)") },
                "\(result.stdout)")
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"], "a plan writes nothing")

        let without = try scratch.job(rules: Self.rules.components(separatedBy: "subset:")[0])
        defer { without.remove() }
        let refused = try CommandRunner.run(["subset", "plan", "--config", without.path])
        #expect(refused.status != 0 && refused.stderr.contains("have no subset: section"))
    }
}
