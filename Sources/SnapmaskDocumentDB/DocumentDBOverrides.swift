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
enum DocumentDBOverrides {
    static func apply(_ overrides: OverrideList, on client: DocumentDBClient, database: String,
                      collectionName: (String) throws -> String) throws -> [OverrideOutcome] {
        var outcomes: [OverrideOutcome] = []
        for step in overrides.steps {
            guard case let .update(update) = step, update.isCollection else {
                throw DocumentDBError("override '\(step.title)' (\(step.location)) is not a collection: step; DocumentDB "
                                          + "overrides are - { collection: NAME, set: { field: value }, filter: { ... } }")
            }
            do {
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
                    let code = error["code"]?.int ?? 0
                    throw DocumentDBError(error["errmsg"]?.string ?? "the update was refused", code: UInt32(code))
                }
                outcomes.append(OverrideOutcome(step: step.title, rowsAffected: reply["n"]?.int ?? 0))
            } catch let error as DocumentDBError {
                throw error.adding(context: "override '\(step.title)' (\(step.location))")
            }
        }
        return outcomes
    }
}
