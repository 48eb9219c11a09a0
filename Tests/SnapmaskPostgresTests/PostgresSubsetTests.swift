import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskPostgres

/// A subset on a schema shaped like Pagila: a cycle (store ↔ staff), self-references (staff's
/// boss, customer's referrer), a composite foreign key, a reference the schema does not declare,
/// a capped relation and a reference set to NULL. The copy must hold every root row, no orphan,
/// and the load's own foreign keys must validate.
@Suite struct PostgresSubsetTests {
    static let sourceSQL = """
        CREATE TABLE address (address_id int PRIMARY KEY, address text NOT NULL);
        CREATE TABLE store (store_id int PRIMARY KEY, manager_staff_id int, address_id int NOT NULL REFERENCES address);
        CREATE TABLE staff (staff_id int PRIMARY KEY, email text NOT NULL, store_id int NOT NULL REFERENCES store,
                            boss_id int REFERENCES staff);
        ALTER TABLE store ADD FOREIGN KEY (manager_staff_id) REFERENCES staff;
        CREATE TABLE customer (customer_id int PRIMARY KEY, email text NOT NULL, store_id int NOT NULL REFERENCES store,
                               address_id int NOT NULL REFERENCES address, referred_by int REFERENCES customer);
        CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL);
        CREATE TABLE inventory (inventory_id int PRIMARY KEY, film_id int NOT NULL REFERENCES film,
                                store_id int NOT NULL REFERENCES store);
        CREATE TABLE rental (rental_id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customer,
                             inventory_id int NOT NULL REFERENCES inventory, staff_id int REFERENCES staff);
        CREATE TABLE rental_line (rental_id int REFERENCES rental, line_no int, note text, PRIMARY KEY (rental_id, line_no));
        CREATE TABLE line_audit (audit_id int PRIMARY KEY, rental_id int, line_no int,
                                 FOREIGN KEY (rental_id, line_no) REFERENCES rental_line);
        CREATE TABLE settings (key text PRIMARY KEY, value text);
        CREATE TABLE events (event_id int PRIMARY KEY, customer_ref int NOT NULL, kind text);
        CREATE TABLE reviews (review_id int PRIMARY KEY, payload jsonb NOT NULL);
        INSERT INTO address SELECT g, g || ' Main St' FROM generate_series(1, 300) g;
        INSERT INTO store SELECT g, NULL, g FROM generate_series(1, 3) g;
        INSERT INTO staff SELECT g, 'staff' || g || '@corp.example.org', g % 3 + 1, NULLIF(g / 2, 0) FROM generate_series(1, 30) g;
        UPDATE store SET manager_staff_id = store_id * 9;
        INSERT INTO customer SELECT g, 'cust' || g || '@mail.example.org', g % 3 + 1, g % 300 + 1,
                                    CASE WHEN g > 7 AND g % 5 = 0 THEN g - 7 END FROM generate_series(1, 1000) g;
        INSERT INTO film SELECT g, 'Film ' || g FROM generate_series(1, 200) g;
        INSERT INTO inventory SELECT g, g % 200 + 1, g % 3 + 1 FROM generate_series(1, 1000) g;
        INSERT INTO rental SELECT g, g % 1000 + 1, (g * 7) % 1000 + 1, g % 30 + 1 FROM generate_series(1, 5000) g;
        INSERT INTO rental_line SELECT r, l, 'line' FROM generate_series(1, 5000) r, generate_series(1, 2) l;
        INSERT INTO line_audit SELECT g, g, 1 FROM generate_series(1, 3000) g;
        INSERT INTO settings VALUES ('a', '1'), ('b', '2'), ('c', '3'), ('d', '4'), ('e', '5');
        INSERT INTO events SELECT g, g % 1000 + 1, 'login' FROM generate_series(1, 2000) g;
        INSERT INTO reviews SELECT g, jsonb_build_object('by', jsonb_build_object('customer', g % 1000 + 1), 'stars', g % 5)
          FROM generate_series(1, 1500) g;
        ANALYZE;
        """

    static let rules = """
        tables:
          address: { columns: { address_id: keep, address: keep } }
          store: { columns: { store_id: keep, manager_staff_id: keep, address_id: keep } }
          staff: { columns: { staff_id: keep, email: email, store_id: keep, boss_id: keep } }
          customer: { columns: { customer_id: keep, email: email, store_id: keep, address_id: keep, referred_by: keep } }
          film: { columns: { film_id: keep, title: keep } }
          inventory: { columns: { inventory_id: keep, film_id: keep, store_id: keep } }
          rental: { columns: { rental_id: keep, customer_id: keep, inventory_id: keep, staff_id: keep } }
          rental_line: { columns: { rental_id: keep, line_no: keep, note: keep } }
          line_audit: { columns: { audit_id: keep, rental_id: keep, line_no: keep } }
          settings: { columns: { key: keep, value: keep } }
          events: { columns: { event_id: keep, customer_ref: keep, kind: keep } }
          reviews: { columns: { review_id: keep, payload: keep } }
        subset:
          roots:
            - table: customer
              percent: 10
          references:
            - from: rental(customer_id)
              to: customer(customer_id)
              max_children: 3
            - from: rental(staff_id)
              to: staff(staff_id)
              on_missing_parent: null
            - from: reviews(payload.by.customer)
              to: customer(customer_id)
              virtual: true
            - from: events(customer_ref)
              to: customer(customer_id)
              virtual: true
        """

    /// The customers a 10 % root selects, computed as the subset does.
    static var rootCustomers: Set<Int> {
        Set((1...1000).filter { KeyDigest.inPercent(KeyDigest.of(["\($0)"]), 10) })
    }

    static func ids(_ scratch: PostgresScratch, _ database: String, _ sql: String) throws -> [Int] {
        try scratch.rows(database, sql).compactMap { $0.first.flatMap { $0 }.flatMap { Int($0) } }
    }

    @Test func aSubsetIsClosedUnderEveryReferenceAndHoldsEveryRoot() throws {
        let scratch = try PostgresScratch("pgsubset")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules)
        defer { job.remove() }
        let observer = RecordingObserver()
        let report = try job.restore(options: RestoreOptions(jobs: 2), observer: observer)
        #expect(report.rowCountsVerified)
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 })

        let roots = Self.rootCustomers
        #expect((60...140).contains(roots.count), "about 10 % of 1000")
        let customers = Set(try Self.ids(scratch, "stage", "SELECT customer_id FROM customer"))
        #expect(roots.isSubset(of: customers), "every root row is copied")
        #expect(customers.count < 400, "a subset, not the table: \(customers.count)")
        // Referrers are parents (a self-reference): the chain up from each root is there.
        let referrers = try scratch.rows("stage", """
            SELECT count(*) FROM customer c WHERE c.referred_by IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM customer p WHERE p.customer_id = c.referred_by)
            """)
        #expect(referrers == [["0"]])

        // Children of roots are followed down: customers they referred (a self-reference), and
        // theirs in turn; then each one's rentals, at most three per customer, the first by key.
        var descending = roots
        let referred = try scratch.rows("src", "SELECT customer_id, referred_by FROM customer WHERE referred_by IS NOT NULL")
            .map { (Int($0[0]!)!, Int($0[1]!)!) }
        while case let more = Set(referred.filter { descending.contains($0.1) }.map(\.0)).subtracting(descending), !more.isEmpty {
            descending.formUnion(more)
        }
        #expect(descending.count > roots.count && descending.isSubset(of: customers))
        let rentals = try scratch.rows("stage", "SELECT customer_id, count(*) FROM rental GROUP BY customer_id")
        #expect(!rentals.isEmpty && rentals.allSatisfy { Int($0[1]!)! <= 3 })
        let sourceRentals = try scratch.rows("src", "SELECT customer_id, count(*) FROM rental GROUP BY customer_id")
        let expected = sourceRentals.filter { descending.contains(Int($0[0]!)!) }.reduce(0) { $0 + min(3, Int($1[1]!)!) }
        #expect(try Self.ids(scratch, "stage", "SELECT count(*) FROM rental") == [expected])
        let firstRentals = try Self.ids(scratch, "src", """
            SELECT rental_id FROM (SELECT rental_id, row_number() OVER (PARTITION BY customer_id ORDER BY rental_id) n
              FROM rental WHERE customer_id IN (\(descending.map(String.init).joined(separator: ",")))) r WHERE n <= 3 ORDER BY 1
            """)
        #expect(try Self.ids(scratch, "stage", "SELECT rental_id FROM rental ORDER BY 1") == firstRentals)

        // Down the composite key: every line of a copied rental, every audit of a copied line.
        #expect(try scratch.rows("stage", "SELECT count(*) FROM rental_line") == [["\(firstRentals.count * 2)"]])
        let audits = firstRentals.filter { $0 <= 3000 }.count
        #expect(try scratch.rows("stage", "SELECT count(*) FROM line_audit") == [["\(audits)"]])

        // Parents pulled: inventory and films of the rentals; the store ↔ staff cycle and the
        // bosses above each manager.
        #expect(try scratch.rows("stage", """
            SELECT count(*) FROM rental r WHERE NOT EXISTS (SELECT 1 FROM inventory i WHERE i.inventory_id = r.inventory_id)
            """) == [["0"]])
        #expect(try scratch.rows("stage", "SELECT count(*) FROM store") == [["3"]])
        let staff = Set(try Self.ids(scratch, "stage", "SELECT staff_id FROM staff"))
        #expect(staff.isSuperset(of: [9, 18, 27, 4, 2, 1, 13, 6, 3]), "managers and their bosses up the tree: \(staff.sorted())")
        #expect(staff.count < 30)
        // on_missing_parent: null: rentals keep their row, not a staff member who is not copied.
        let nulled = try scratch.rows("stage", "SELECT count(*) FROM rental WHERE staff_id IS NULL")
        #expect(nulled != [["0"]], "the reference is set to NULL rather than the staff copied")
        #expect(try scratch.rows("stage", """
            SELECT count(*) FROM rental r WHERE staff_id IS NOT NULL AND staff_id NOT IN (SELECT staff_id FROM staff)
            """) == [["0"]])

        // The undeclared reference: events of the copied customers only, and all of them.
        let events = try Self.ids(scratch, "stage", "SELECT customer_ref FROM events")
        #expect(Set(events).isSubset(of: customers))
        let sourceEvents = try Self.ids(scratch, "src", "SELECT customer_ref FROM events")
        #expect(events.count == sourceEvents.filter { descending.contains($0) }.count)
        // An id inside a JSON column, declared as a reference.
        let reviewers = try Self.ids(scratch, "stage", "SELECT (payload->'by'->>'customer')::int FROM reviews")
        let sourceReviewers = try Self.ids(scratch, "src", "SELECT (payload->'by'->>'customer')::int FROM reviews")
        #expect(!reviewers.isEmpty && reviewers.count == sourceReviewers.filter { descending.contains($0) }.count)

        // A table no relation connects to a root is copied whole; films no rental needs are not.
        #expect(try scratch.rows("stage", "SELECT count(*) FROM settings") == [["5"]])
        #expect(try Self.ids(scratch, "stage", "SELECT count(*) FROM film").first! < 200)
        #expect(try scratch.rows("stage", "SELECT count(*) FROM customer WHERE email LIKE '%mail.example.org'") == [["0"]])

        let subset = try #require(report.subset)
        #expect(subset.tables.first { $0.name == "public.settings" }?.reachedBy == "not connected to a root: copied whole")
        #expect(subset.tables.first { $0.name == "public.customer" }?.reachedBy.hasPrefix("root (percent: 10") == true)
        #expect(subset.tables.first { $0.name == "public.film" }?.reachedBy.hasPrefix("parents of public.inventory") == true)
        #expect(subset.tables.first { $0.name == "public.customer" }?.selectedRows == customers.count)
        #expect(observer.phases.contains { $0.contains("subset: public.rental:") })
    }

    @Test func theSameSubsetEveryRun() throws {
        let scratch = try PostgresScratch("pgsubsetagain")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules)
        defer { job.remove() }
        _ = try job.restore(options: RestoreOptions(jobs: 2), observer: RecordingObserver())
        let first = try scratch.rows("stage", "SELECT string_agg(rental_id::text, ',' ORDER BY rental_id) FROM rental")
        _ = try job.restore(options: RestoreOptions(jobs: 1), observer: RecordingObserver())
        #expect(try scratch.rows("stage", "SELECT string_agg(rental_id::text, ',' ORDER BY rental_id) FROM rental") == first)
    }

    @Test func aRootByConditionAndLimit() throws {
        let scratch = try PostgresScratch("pgsubsetlimit")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let rules = Self.rules.replacingOccurrences(of: """
                - table: customer
                  percent: 10
            """, with: """
                - table: customer
                  where: "customer_id BETWEEN 100 AND 104"
                - table: film
                  limit: 2
                  order_by: film_id DESC
            """)
        let job = try scratch.job(rules: rules)
        defer { job.remove() }
        _ = try job.restore(options: RestoreOptions(jobs: 2), observer: RecordingObserver())
        let customers = Set(try Self.ids(scratch, "stage", "SELECT customer_id FROM customer"))
        #expect(customers.isSuperset(of: [100, 101, 102, 103, 104]))
        #expect(Set(try Self.ids(scratch, "stage", "SELECT film_id FROM film")).isSuperset(of: [199, 200]))
        // Children of the two films: their inventory, then those rows' rentals (three per customer
        // at most), whose customers are pulled in as parents.
        #expect(try scratch.rows("stage", "SELECT count(*) FROM inventory WHERE film_id IN (199, 200)")
                    == scratch.rows("src", "SELECT count(*) FROM inventory WHERE film_id IN (199, 200)"))
    }

    @Test func aReferenceTheSchemaDoesNotDeclareMustSayVirtual() throws {
        let scratch = try PostgresScratch("pgsubsetbad")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules.replacingOccurrences(of: "\n      virtual: true", with: "")
            .replacingOccurrences(of: "percent: 10", with: "percent: 10\n    - table: custmer\n      percent: 1"))
        defer { job.remove() }
        #expect {
            _ = try job.restore(options: RestoreOptions(jobs: 1), observer: RecordingObserver())
        } throws: { error in
            let text = "\(error)"
            return text.contains("declares no foreign key events(customer_ref) → customer(customer_id); add virtual: true")
                && text.contains("no table 'custmer' in the source (did you mean 'customer'?)")
                && text.contains("selecting the subset")
        }
        #expect(try scratch.databases() == ["\(scratch.prefix)_src"], "nothing written")
    }
}
