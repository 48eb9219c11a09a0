import Foundation
import Testing
@testable import Snapmask

/// Rule-file mistakes: each error names the file, line and column and says what is expected.
@Suite struct ConfigErrorTests {
    static let file = "rules/postgres/app.yaml"

    func parse(_ text: String) throws -> RuleSet { try RuleSet.parse(text, file: Self.file) }

    @Test func misspelledTransformKeyInFlowMapping() {
        let text = """
            tables:
              public.users:
                columns:
                  id: keep
                  email: { trasnform: email, unique: true }
            """
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "trasnform", in: text)
        #expect(error?.message.contains("did you mean 'transform'") == true, "\(String(describing: error))")
    }

    @Test func misspelledTransformKeyInBlockMapping() {
        let text = """
            tables:
              public.users:
                columns:
                  phone:
                    keep_last: 2
                    trasnform: phone
            """
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "trasnform", in: text)
        #expect(error?.message.contains("did you mean 'transform'") == true, "\(String(describing: error))")
    }

    @Test func unknownTopLevelKeyOfARuleFile() {
        let text = "unlisted: fail\ntabels:\n  t: { columns: { id: keep } }\n"
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "tabels", in: text)
        #expect(error?.message.contains("did you mean 'tables'") == true, "\(String(describing: error))")
    }

    @Test func unknownTableKey() {
        let text = "tables:\n  orders:\n    wehre: \"id > 3\"\n    columns: { id: keep }\n"
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "wehre", in: text)
        #expect(error?.message.contains("did you mean 'where'") == true, "\(String(describing: error))")
    }

    @Test func unknownTransformerNameWithSuggestion() throws {
        let text = "tables:\n  users:\n    columns:\n      id: keep\n      email: emial\n"
        let rules = try parse(text)
        let error = configError { try CompiledRules.compile(rules, key: testKey) }
        expectLocation(error, file: Self.file, at: "emial", in: text)
        #expect(error?.message.contains("unknown transformer 'emial'") == true)
        #expect(error?.message.contains("did you mean 'email'") == true, "\(String(describing: error))")
    }

    @Test func unknownTransformerOption() throws {
        let text = "tables:\n  users:\n    columns:\n      phone: { transform: phone, keep_lst: 2 }\n"
        let rules = try parse(text)
        let error = configError { try CompiledRules.compile(rules, key: testKey) }
        expectLocation(error, file: Self.file, at: "keep_lst", in: text)
        #expect(error?.message.contains("has no option 'keep_lst'") == true)
        #expect(error?.message.contains("did you mean 'keep_last'") == true, "\(String(describing: error))")
    }

    @Test func badOptionValueSaysWhatIsExpected() throws {
        let text = "tables:\n  users:\n    columns:\n      born: { transform: date_shift, max_days: lots }\n"
        let rules = try parse(text)
        let error = configError { try CompiledRules.compile(rules, key: testKey) }
        expectLocation(error, file: Self.file, at: "max_days", in: text)
        #expect(error?.message.contains("whole number") == true, "\(String(describing: error))")
    }

    @Test func duplicateKey() {
        let text = "tables:\n  users:\n    columns:\n      email: email\n      id: keep\n      email: hash\n"
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "email", in: text, occurrence: 3)
        #expect(error?.message.contains("'email' appears twice") == true, "\(String(describing: error))")
    }

    @Test func columnsGivenAList() {
        let text = "tables:\n  users:\n    columns:\n      - id\n      - email\n"
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "- id", in: text)
        #expect(error?.message.contains("a YAML mapping") == true, "\(String(describing: error))")
        #expect(error?.message.contains("found a list") == true, "\(String(describing: error))")
    }

    @Test func unlistedMaybe() {
        let text = "unlisted: maybe\ntables:\n  t: { columns: { id: keep } }\n"
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "maybe", in: text)
        #expect(error?.message.contains("'fail'") == true && error?.message.contains("'keep'") == true,
                "\(String(describing: error))")
    }

    @Test func tablesAndCollectionsBoth() {
        let text = "tables:\n  t: { columns: { id: keep } }\ncollections:\n  c: { fields: { _id: keep } }\n"
        let error = configError { try parse(text) }
        #expect(error?.location?.file == Self.file)
        #expect(error?.location?.line == 1 && error?.location?.column == 1, "the rule file itself")
        #expect(error?.message.contains("not both") == true, "\(String(describing: error))")
    }

    @Test func emptyRuleAfterTheColon() {
        let text = "tables:\n  users:\n    columns:\n      id: keep\n      email:\n      name: first_name\n"
        let error = configError { try parse(text) }
        #expect(error?.location?.file == Self.file)
        #expect(error?.location?.line == 5, "the line of `email:`, got \(String(describing: error))")
        #expect(error?.message.contains("column 'email' of 'users' has no rule") == true, "\(String(describing: error))")
    }

    @Test func emptyRuleAtEndOfFile() {
        let text = "tables:\n  users:\n    columns:\n      id: keep\n      email:"
        let error = configError { try parse(text) }
        #expect(error?.location?.line == 5, "the line of `email:`, got \(String(describing: error))")
        #expect(error?.message.contains("has no rule") == true)
    }

    @Test func malformedYAMLReportsLineAndColumn() {
        let text = "tables:\n  users:\n    columns: { id: keep, email: [email }\n"
        let error = configError { try parse(text) }
        #expect(error?.location?.file == Self.file)
        #expect(error?.location?.line == 3, "\(String(describing: error))")
        #expect((error?.location?.column ?? 0) > 1, "\(String(describing: error))")
        #expect(error?.message.contains("not valid YAML") == true)
        #expect(error?.description.hasPrefix("\(Self.file):3:") == true)
    }

    @Test func badIndentationReportsTheLine() {
        let text = "tables:\n  users:\n    columns:\n      id: keep\n     email: email\n"
        let error = configError { try parse(text) }
        #expect(error?.location?.file == Self.file)
        #expect(error?.location?.line == 5, "\(String(describing: error))")
        #expect(error?.message.contains("not valid YAML") == true)
    }

    @Test func severalErrorsInOneRuleFileAreReportedTogether() {
        let text = """
            tables:
              a:
                columns:
                  x: { trasnform: email }
                  y:
              b: { columns: [x] }
              c: { wehre: "x > 1", columns: { id: keep } }
              d: { data: sometimes }
            """
        let errors = configErrors { try parse(text) }
        #expect(errors.count == 5, "\(errors)")
        #expect(errors.compactMap(\.location?.line) == [4, 5, 6, 7, 8], "\(errors)")
        #expect(errors.allSatisfy { $0.location?.file == Self.file })
    }

    @Test func severalCompileErrorsAreReportedTogether() throws {
        let text = "tables:\n  t:\n    columns:\n      a: emial\n      b: { transform: phone, kep_last: 1 }\n      c: keep\n"
        let rules = try parse(text)
        let errors = configErrors { try CompiledRules.compile(rules, key: testKey) }
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.compactMap(\.location?.line) == [4, 5])
    }

    @Test func collectionFieldPathWithAnIndexIsRefused() {
        let text = "collections:\n  messages:\n    fields:\n      \"recipients[0].email\": email\n"
        let error = configError { try parse(text) }
        expectLocation(error, file: Self.file, at: "\"recipients", in: text)
        #expect(error?.message.contains("[]") == true, "\(String(describing: error))")
    }

    /// Rule files expand no variable: what is masked must be in the reviewed file itself.
    @Test func aRuleFileTakesNoEnvironmentVariables() {
        let text = "tables:\n  orders:\n    where: \"tenant = '${TENANT}'\"\n    columns: { id: keep }\n"
        let error = configError { try RuleSet.parse(text, file: Self.file, environment: ["TENANT": "acme"]) }
        expectLocation(error, file: Self.file, at: "\"tenant", in: text)
        #expect(error?.message.contains("rule files take no environment variables") == true, "\(String(describing: error))")
    }
}
