import Foundation
import Testing
@testable import Snapmask

/// The masking key of every test; long enough for `MaskingKey`'s minimum.
let testKeyText = "test-masking-key-0123456789abcdef"
let testKey = try! MaskingKey(testKeyText)
let otherKey = try! MaskingKey("another-masking-key-fedcba9876543210")

/// A fresh directory for configuration files, removed when the value goes away.
final class TempDir {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("snapmask-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `text` at `relative` (creating folders) and returns the full path.
    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        let full = path + "/" + relative
        let folder = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }
}

/// Runs `body`, which must fail with configuration errors, and returns them all.
func configErrors(_ body: () throws -> Any, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [ConfigError] {
    do {
        _ = try body()
        Issue.record("expected a configuration error, but none was thrown", sourceLocation: sourceLocation)
        return []
    } catch let error as ConfigError {
        return [error]
    } catch let errors as ConfigErrors {
        return errors.errors
    } catch {
        Issue.record("expected ConfigError(s), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return []
    }
}

/// The only configuration error thrown by `body`.
func configError(_ body: () throws -> Any, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> ConfigError? {
    let errors = configErrors(body, sourceLocation: sourceLocation)
    #expect(errors.count == 1, "expected one error, got: \(errors)", sourceLocation: sourceLocation)
    return errors.first
}

/// The 1-based line and column where `needle` first occurs in `text` (after `occurrence - 1` others).
func position(of needle: String, in text: String, occurrence: Int = 1) -> (line: Int, column: Int) {
    var seen = 0
    for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        var searchStart = line.startIndex
        while let range = line[searchStart...].range(of: needle) {
            seen += 1
            if seen == occurrence {
                return (index + 1, line.unicodeScalars.distance(from: line.startIndex, to: range.lowerBound) + 1)
            }
            searchStart = range.upperBound
        }
    }
    fatalError("'\(needle)' not found in the test text")
}

/// Checks that an error points at `needle` in `text` (file, line and column).
func expectLocation(_ error: ConfigError?, file: String, at needle: String, in text: String, occurrence: Int = 1,
                    sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    let expected = position(of: needle, in: text, occurrence: occurrence)
    #expect(error?.location?.file == file, sourceLocation: sourceLocation)
    #expect(error?.location?.line == expected.line, "line of '\(needle)'", sourceLocation: sourceLocation)
    #expect(error?.location?.column == expected.column, "column of '\(needle)'", sourceLocation: sourceLocation)
    #expect(error?.description.hasPrefix("\(file):\(expected.line):\(expected.column): ") == true,
            "description names file:line:column: \(error?.description ?? "nil")", sourceLocation: sourceLocation)
}

/// Builds one transformer the way a rule would, with text options.
func compile(_ name: String, _ options: [String: String] = [:], unique: Bool = false,
             key: MaskingKey = testKey) throws -> CompiledTransformer {
    let values = options.mapValues { OptionValue.text($0) }
    return try TransformerCatalog.compile(TransformSpec(name: name, options: values, unique: unique), key: key)
}

/// Masks a non-NULL value that must stay non-NULL.
func masked(_ transformer: CompiledTransformer, _ value: String,
            sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> String {
    try #require(try transformer.mask(value), sourceLocation: sourceLocation)
}

/// Positions and characters of everything that is not an ASCII digit.
func nonDigitLayout(_ text: String) -> [String] {
    text.enumerated().filter { !("0"..."9").contains($0.element) }.map { "\($0.offset):\($0.element)" }
}

func asciiDigits(_ text: String) -> [Int] {
    text.compactMap { ("0"..."9").contains($0) ? $0.wholeNumberValue : nil }
}
