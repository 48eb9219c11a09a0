import Foundation
import Snapmask
import SnapmaskTestSupport
import Testing
@testable import SnapmaskMySQL

/// A subset on a schema shaped like Sakila: the store ↔ staff cycle, a self-reference, a
/// composite foreign key, and a reference between tables that declare no constraint (common in
/// MySQL schemas). Every root row is copied and no reference dangles.
@Suite struct MySQLSubsetTests {
    static let sourceSQL = """
        SET SESSION max_recursive_iterations = 100000;
        CREATE TABLE store (store_id int PRIMARY KEY, manager_staff_id int NULL);
        CREATE TABLE staff (staff_id int PRIMARY KEY, email varchar(100) NOT NULL, store_id int NOT NULL,
                            boss_id int NULL, FOREIGN KEY (store_id) REFERENCES store (store_id),
                            FOREIGN KEY (boss_id) REFERENCES staff (staff_id));
        ALTER TABLE store ADD FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id);
        CREATE TABLE customer (customer_id int PRIMARY KEY, email varchar(100) NOT NULL, store_id int NOT NULL,
                               FOREIGN KEY (store_id) REFERENCES store (store_id));
        CREATE TABLE orders (order_id int PRIMARY KEY, customer_id int NOT NULL, staff_id int NULL,
                             FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
                             FOREIGN KEY (staff_id) REFERENCES staff (staff_id));
        CREATE TABLE order_line (order_id int NOT NULL, line_no int NOT NULL, sku varchar(20), PRIMARY KEY (order_id, line_no),
                                 FOREIGN KEY (order_id) REFERENCES orders (order_id));
        CREATE TABLE shipment (shipment_id int PRIMARY KEY, order_id int NOT NULL, line_no int NOT NULL,
                               FOREIGN KEY (order_id, line_no) REFERENCES order_line (order_id, line_no));
        CREATE TABLE audit_log (id int PRIMARY KEY, customer_ref int NOT NULL, what varchar(20));
        CREATE TABLE notes (id int PRIMARY KEY, doc json NOT NULL);
        SET FOREIGN_KEY_CHECKS = 0;
        INSERT INTO store VALUES (1, 3), (2, 6);
        INSERT INTO staff WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 12)
          SELECT g, CONCAT('staff', g, '@corp.example.org'), g % 2 + 1, NULLIF(g DIV 2, 0) FROM n;
        SET FOREIGN_KEY_CHECKS = 1;
        INSERT INTO customer WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 500)
          SELECT g, CONCAT('cust', g, '@mail.example.org'), g % 2 + 1 FROM n;
        INSERT INTO orders WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 2000)
          SELECT g, g % 500 + 1, g % 12 + 1 FROM n;
        INSERT INTO order_line WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 2000)
          SELECT g, 1, 'sku' FROM n;
        INSERT INTO shipment WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 1500)
          SELECT g, g, 1 FROM n;
        INSERT INTO audit_log WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 1000)
          SELECT g, g % 500 + 1, 'login' FROM n;
        INSERT INTO notes WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 800)
          SELECT g, JSON_OBJECT('customer', g % 500 + 1, 'text', 'hello') FROM n;
        ANALYZE TABLE notes, store, staff, customer, orders, order_line, shipment, audit_log;
        """

    static let rules = """
        tables:
          store: { columns: { store_id: keep, manager_staff_id: keep } }
          staff: { columns: { staff_id: keep, email: email, store_id: keep, boss_id: keep } }
          customer: { columns: { customer_id: keep, email: email, store_id: keep } }
          orders: { columns: { order_id: keep, customer_id: keep, staff_id: keep } }
          order_line: { columns: { order_id: keep, line_no: keep, sku: keep } }
          shipment: { columns: { shipment_id: keep, order_id: keep, line_no: keep } }
          audit_log: { columns: { id: keep, customer_ref: keep, what: keep } }
          notes: { columns: { id: keep, doc: keep } }
        subset:
          roots:
            - table: customer
              percent: 10
          references:
            - from: orders(staff_id)
              to: staff(staff_id)
              on_missing_parent: null
            - from: audit_log(customer_ref)
              to: customer(customer_id)
              virtual: true
            - from: notes(doc.customer)
              to: customer(customer_id)
              virtual: true
        """

    static func ids(_ scratch: MySQLScratch, _ database: String, _ sql: String) throws -> [Int] {
        try scratch.rows(database, sql).compactMap { $0.first.flatMap { $0 }.flatMap { Int($0) } }
    }

    @Test func aSubsetIsClosedUnderEveryReferenceAndHoldsEveryRoot() throws {
        let scratch = try MySQLScratch("mysubset")
        defer { scratch.drop() }
        _ = try scratch.url("src", create: true, sql: Self.sourceSQL)
        let job = try scratch.job(rules: Self.rules)
        defer { job.remove() }
        let report = try job.restore(options: RestoreOptions(jobs: 2), observer: RecordingObserver())
        #expect(report.rowCountsVerified)
        #expect(report.leakChecks.allSatisfy { $0.leaks == 0 })

        let roots = Set((1...500).filter { KeyDigest.inPercent(KeyDigest.of(["\($0)"]), 10) })
        let customers = Set(try Self.ids(scratch, "stage", "SELECT customer_id FROM customer"))
        #expect(customers == roots, "customers have no parent rows to pull in: the roots exactly")
        // Every order of a root customer, every line of those orders, every shipment of those lines.
        let orders = try Self.ids(scratch, "src", "SELECT order_id FROM orders WHERE customer_id IN (\(roots.map(String.init).joined(separator: ",")))")
        #expect(try Self.ids(scratch, "stage", "SELECT order_id FROM orders ORDER BY order_id") == orders.sorted())
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM order_line") == [orders.count])
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM shipment") == [orders.filter { $0 <= 1500 }.count])
        // No orphans, the cycle and the self-reference included.
        for (child, parent) in [("orders o LEFT JOIN customer p ON p.customer_id = o.customer_id", "p.customer_id"),
                                ("staff s LEFT JOIN store p ON p.store_id = s.store_id", "p.store_id"),
                                ("store s LEFT JOIN staff p ON p.staff_id = s.manager_staff_id WHERE s.manager_staff_id IS NOT NULL AND", "p.staff_id"),
                                ("staff s LEFT JOIN staff p ON p.staff_id = s.boss_id WHERE s.boss_id IS NOT NULL AND", "p.staff_id"),
                                ("orders o LEFT JOIN staff p ON p.staff_id = o.staff_id WHERE o.staff_id IS NOT NULL AND", "p.staff_id"),
                                ("audit_log a LEFT JOIN customer p ON p.customer_id = a.customer_ref", "p.customer_id")] {
            let joiner = child.hasSuffix("AND") ? "" : " WHERE"
            #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM \(child)\(joiner) \(parent) IS NULL") == [0], "\(child)")
        }
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM orders WHERE staff_id IS NULL").first! > 0,
                "references to staff no one else needs are set to NULL")
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM audit_log")
                    == Self.ids(scratch, "src", "SELECT COUNT(*) FROM audit_log WHERE customer_ref IN (\(roots.map(String.init).joined(separator: ",")))"))
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM store") == [2])
        // An id inside a JSON column, declared as a reference.
        let rootList = roots.map(String.init).joined(separator: ",")
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM notes")
                    == Self.ids(scratch, "src", "SELECT COUNT(*) FROM notes WHERE JSON_EXTRACT(doc, '$.customer') IN (\(rootList))"))
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM notes").first! > 0)
        #expect(try Self.ids(scratch, "stage", "SELECT COUNT(*) FROM customer WHERE email LIKE '%mail.example.org'") == [0])
    }
}
