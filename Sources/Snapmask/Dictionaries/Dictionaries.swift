/// Word lists compiled into the binary, so masking never needs a download and gives the same
/// output on every machine. The order of entries is part of the masking mapping: appending
/// is safe for new releases only if pinned vectors are updated, so never reorder or edit.
///
/// Each list is embedded as one multi-line string literal (one entry per line) rather than an
/// array literal, because huge array literals type-check slowly. Static properties are
/// initialised lazily, on first use.
enum Dictionaries {
    /// Splits `text` into its non-empty lines, trimming surrounding whitespace from each.
    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            guard let first = line.firstIndex(where: { !$0.isWhitespace }),
                  let last = line.lastIndex(where: { !$0.isWhitespace })
            else { return nil }
            return String(line[first...last])
        }
    }
}
