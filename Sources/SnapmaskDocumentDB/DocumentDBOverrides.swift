import Foundation
import Snapmask

/// Applies override steps in order, each as one `update` command: `{ q: filter, u: { $set: ... },
/// multi: true }`. `set:` keys may be dotted paths (`settings.webhook_url`) or use positional
/// operators (`recipients.$[].email`); values are YAML scalars, lists and mappings, and an
/// extended-JSON wrapper (`{ $date: "2024-01-01T00:00:00Z" }`) gives that BSON type.
///
/// Each update is atomic per document, not across steps: on the shadow copy a failing step fails
/// the run and the shadow is discarded; `overrides apply` on live staging stops at the failing
/// step, and the steps before it stay applied.
struct DocumentDBOverrides: OverrideExecutor {
    let client: DocumentDBClient
    let database: String
    let collectionName: (String) throws -> String

    static func apply(_ overrides: OverrideList, on client: DocumentDBClient, database: String,
                      collectionName: @escaping (String) throws -> String) throws -> [OverrideOutcome] {
        try OverrideRunner.apply(overrides, with: DocumentDBOverrides(client: client, database: database,
                                                                      collectionName: collectionName))
    }

    // No transaction across updates (see above).
    func begin() throws {}
    func commit() throws {}
    func rollback() {}

    func runSQL(_ sql: OverrideSQL) throws -> Int {
        throw DocumentDBError("an SQL file does not apply to DocumentDB (\(sql.location)); DocumentDB overrides are "
                                  + "- { collection: NAME, set: { field: value }, filter: { ... } }")
    }

    func update(_ update: OverrideUpdate) throws -> Int {
        guard update.isCollection else {
            throw DocumentDBError("a table: step does not apply to DocumentDB (\(update.location)); DocumentDB overrides "
                                      + "are - { collection: NAME, set: { field: value }, filter: { ... } }")
        }
        let target = try collectionName(update.target)
        var assignments = BSONDoc()
        for (field, value) in update.assignments { assignments[field] = try BSONValue.from(value) }
        let filter = try update.filter.map { try BSONValue.from($0).document ?? [:] } ?? [:]
        let reply = try client.run([
            "update": .string(target),
            "updates": .array([.document(["q": .document(filter), "u": .document(["$set": .document(assignments)]),
                                          "multi": .bool(true)])]),
        ], on: database)
        if let error = reply["writeErrors"]?.array?.first?.document {
            throw DocumentDBError(error["errmsg"]?.string ?? "the update was refused", code: UInt32(error["code"]?.int ?? 0))
        }
        return reply["n"]?.int ?? 0
    }
}
