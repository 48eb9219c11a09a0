import Foundation
import Snapmask
import Testing

// What the failure scenarios start from, engine by engine (the shared ones in SnapmaskEngineTests,
// each engine's own next to its driver's tests): a source holding people whose emails are
// masked, and staging holding what a DBA left there. Whatever goes wrong before the swap, staging
// stays exactly so and no shadow copy is left beside it.

/// PostgreSQL: a table `big` of 3000 people.
public enum PostgresFailureFixture {
    public static let stagingSQL = "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('previous staging');"

    public static let sourceSQL = """
        CREATE TABLE big (id int PRIMARY KEY, email text);
        INSERT INTO big SELECT g, 'person' || g || '@corp.example.org' FROM generate_series(1, 3000) g;
        """

    public static func rules(where condition: String? = nil) -> String {
        """
        tables:
          public.big:
        \(condition.map { "    where: \"\($0)\"\n" } ?? "")    columns: { id: keep, email: { transform: email, unique: true } }
        """
    }

    public static func markStaging(_ scratch: PostgresScratch) throws {
        _ = try scratch.url("stage", create: true, sql: stagingSQL)
    }

    public static func expectStagingUntouched(_ scratch: PostgresScratch,
                                              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try scratch.rows("stage", "SELECT v FROM marker") == [["previous staging"]], sourceLocation: sourceLocation)
        #expect(try scratch.rows("stage", "SELECT count(*) FROM pg_tables WHERE tablename = 'big'") == [["0"]],
                sourceLocation: sourceLocation)
        #expect(try scratch.databases() == ["\(scratch.prefix)_src", "\(scratch.prefix)_stage"], "no shadow copy left",
                sourceLocation: sourceLocation)
    }
}

/// MySQL: a table `big` of 3000 people.
public enum MySQLFailureFixture {
    public static let stagingSQL = PostgresFailureFixture.stagingSQL

    public static let sourceSQL: String = {
        "CREATE TABLE big (id int PRIMARY KEY, email varchar(255));\nINSERT INTO big VALUES "
            + (1...3000).map { "(\($0), 'person\($0)@corp.example.org')" }.joined(separator: ", ") + ";"
    }()

    public static func rules(where condition: String? = nil) -> String {
        """
        tables:
          big:
        \(condition.map { "    where: \"\($0)\"\n" } ?? "")    columns: { id: keep, email: { transform: email, unique: true } }
        """
    }

    public static func markStaging(_ scratch: MySQLScratch) throws {
        _ = try scratch.url("stage", create: true, sql: stagingSQL)
    }

    public static func expectStagingUntouched(_ scratch: MySQLScratch,
                                              sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(try scratch.rows("stage", "SELECT v FROM marker") == [["previous staging"]], sourceLocation: sourceLocation)
        #expect(try scratch.rows("stage", "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
                    == [["1"]], sourceLocation: sourceLocation)
        #expect(try scratch.databases() == [scratch.name("src"), scratch.name("stage")], "no shadow copy left",
                sourceLocation: sourceLocation)
    }
}

/// DocumentDB: a collection `people`; staging as `DocumentDBScratch.markStaging()` leaves it.
public enum DocumentDBFailureFixture {
    public static let rules = """
        collections:
          people:
            fields: { _id: keep, email: { transform: email, unique: true }, note: lorem }
        """

    public static func people(_ count: Int, from: Int = 1) -> [String] {
        (from..<(from + count)).map { #"{"_id": \#($0), "email": "person\#($0)@corp.example.org", "note": "row \#($0)"}"# }
    }
}
