/// How a document engine describes a discovered path as a `ColumnShape`, so `check` can read it
/// back: the type name lists the value types seen at the path (`string, null`), and the
/// category is the one that decides which transformers fit all of them.
public enum DocumentPathShape {
    /// Type names of values that hold nothing.
    public static let nothingTypes: Set<String> = ["null", "empty array", "empty document", "empty object"]

    /// `types` are the engine's names for the value types seen at the path, with the category
    /// each can be masked as (nil for the types in `nothingTypes`). `required` paths (`_id`)
    /// can never be null.
    public static func column(path: String, types: [(name: String, category: ValueCategory?)],
                              required: Bool = false) -> ColumnShape {
        let categories = Set(types.compactMap(\.category))
        return ColumnShape(name: path, typeName: types.map(\.name).joined(separator: ", "),
                           category: combined(categories), nullable: !required)
    }

    /// The category whose fitting transformers fit every one of `categories`: every transformer
    /// that masks numbers, dates or UUIDs masks text too, so text adds nothing; two other
    /// categories leave only keep, null and constant (`other`).
    public static func combined(_ categories: Set<ValueCategory>) -> ValueCategory {
        var rest = categories.subtracting([.text])
        if rest == [.date, .timestamp] { rest = [.timestamp] }
        if rest.isEmpty { return .text }
        return rest.count == 1 ? rest.first! : .other
    }

    /// An object whose field names no rule can spell, seen as one value.
    static func isOpaqueObject(_ shape: ColumnShape) -> Bool {
        shape.category == .other && shape.typeName.hasPrefix("object with field names")
    }

    public static func holdsNothing(_ shape: ColumnShape) -> Bool {
        shape.typeName.split(separator: ",").allSatisfy { nothingTypes.contains(String($0.drop { $0 == " " })) }
    }
}

/// `check` for collections: every discovered path needs a rule covering it (while
/// `unlisted: fail`), the rule's transformer must fit every value type seen there, and paths
/// under a unique index need a transformer that promises distinct outputs. A rule naming a path
/// the sample did not show is accepted: sampling can miss rare fields, and the masker checks
/// every document while streaming.
enum DocumentPathCheck {
    static func problems(rules: CompiledRules, schema: SchemaShape) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        let failUnlisted = rules.rules.unlisted == .fail
        var ruled = Set<String>()
        for table in schema.tables {
            guard let rule = schema.rule(for: table, in: rules) else {
                if failUnlisted {
                    problems.append(CheckProblem(table: table.name, message:
                        "collection has no rule in \(rules.rules.path); add it under collections: with a rule per field "
                            + "path, or { data: skip }", drift: .added))
                }
                continue
            }
            ruled.insert(rule.name)
            if rule.rule.skipData { continue }
            problems += pathProblems(table: table, rule: rule, failUnlisted: failUnlisted)
        }
        for rule in rules.tables where !ruled.contains(rule.name) {
            problems.append(CheckProblem(table: rule.name, message:
                "the rule names a collection the source does not have (\(rule.rule.location)); remove the rule or fix its name",
                drift: .removed))
        }
        return problems
    }

    private static func pathProblems(table: TableShape, rule: CompiledTable, failUnlisted: Bool) -> [CheckProblem] {
        PathCheck.problems(tree: FieldPathRules(rule), shapes: table.columns, keepUnruled: !failUnlisted,
                           uniqueKeys: table.uniqueKeys, primaryKey: table.primaryKey, noun: "field path") { path, message in
            CheckProblem(table: table.name, column: path, message: message)
        } advice: { path in
            "add `\"\(path)\": keep` if it holds no personal data, a transformer, or a rule on an enclosing path"
        }
    }
}

/// The checks shared by document collections and JSON columns: every discovered path needs a rule
/// covering it (unless unruled values are explicitly kept), the rule's transformer must fit the
/// values seen there, a level that looks like a map keyed by data needs a `keys:` rule, and paths
/// under a unique index need a transformer that promises distinct outputs.
enum PathCheck {
    static func problems(tree: FieldPathRules, shapes: [ColumnShape], keepUnruled: Bool, uniqueKeys: [[String]] = [],
                         primaryKey: [String] = [], noun: String = "path", problem: (String, String) -> CheckProblem,
                         advice: (String) -> String) -> [CheckProblem] {
        var problems: [CheckProblem] = []
        for shape in shapes {
            if let names = shape.distinctKeys {
                let path = FieldPath.of(rule: shape.name)
                if keepUnruled || tree.keysRule(at: path) != nil || tree.locate(path).inherited?.transformer.isNull == true {
                    continue
                }
                let name = shape.name.isEmpty ? "the top-level object" : "'\(shape.name)'"
                let fix = shape.name.isEmpty ? "the json option keys: hash (or keys: keep)"
                    : "`\"\(shape.name)\": { keys: hash, values: keep }` (keys: keep if the names hold no personal data)"
                problems.append(problem(shape.name, "\(name) looks like a map keyed by data (\(names) distinct field names "
                                            + "in the sample): its field names would be copied as they are; say what happens "
                                            + "to them with \(fix)"))
                continue
            }
            guard let path = shape.name.isEmpty ? FieldPath.of(rule: "") : try? FieldPath(shape.name) else {
                if !keepUnruled {
                    problems.append(problem(shape.name, "a field name holds '.', '[' or ']', so no rule can name this path "
                                                + "(\(shape.typeName)); cover it with a rule on an enclosing path"))
                }
                continue
            }
            let column: CompiledColumn
            switch tree.coverage(of: path, holdsNothing: DocumentPathShape.holdsNothing(shape)) {
            case .holdsNothing:
                continue
            case .unruled:
                if !keepUnruled {
                    var unruled = problem(shape.name, "\(noun) has no rule (\(shape.typeName)); \(advice(shape.name))")
                    unruled.drift = .added
                    problems.append(unruled)
                }
                continue
            case let .rule(found):
                column = found
            }
            let transformer = column.transformer
            let exact = column.name == shape.name
            let via = exact ? "" : " (by the rule on \(column.name))"
            // Under an enclosing rule, booleans are kept and objects are walked into; a rule on
            // the path itself must fit what is there.
            var category = shape.category
            if !exact && category == .boolean { category = .text }
            if DocumentPathShape.isOpaqueObject(shape) { category = .text }
            if !transformer.descriptor.accepts(category) {
                problems.append(problem(shape.name, "\(transformer.name)\(via) cannot mask the values found here "
                                            + "(\(shape.typeName)); use \(SchemaCheck.fitting(shape.category).joined(separator: ", "))"))
            }
            if transformer.isNull && !shape.nullable {
                problems.append(problem(shape.name, "the null transformer\(via) cannot write this path: every document needs "
                                            + "it; use keep or a transformer that promises distinct outputs"))
            }
            if !transformer.isUnique, let key = uniqueKeys.first(where: { $0.contains(shape.name) }) {
                let what = key == primaryKey ? "the document key" : "a unique index on (\(key.joined(separator: ", ")))"
                problems.append(problem(shape.name, "path is under \(what) but \(transformer.name)\(via) cannot promise "
                                            + "distinct outputs (a unique index counts null as a value too); use a transformer "
                                            + "that can (email, hash, uuid, username, phone, digits, ...)"))
            }
        }
        return problems
    }
}
