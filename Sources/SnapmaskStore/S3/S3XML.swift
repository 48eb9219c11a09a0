import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree of an S3 XML response, read with Foundation's XMLParser. Namespaces
/// are ignored (S3 answers in `http://s3.amazonaws.com/doc/2006-03-01/`, or none).
struct S3XMLElement {
    var name: String
    var text: String = ""
    var children: [S3XMLElement] = []

    /// The first child with this name.
    func child(_ name: String) -> S3XMLElement? { children.first { $0.name == name } }

    /// Every child with this name.
    func all(_ name: String) -> [S3XMLElement] { children.filter { $0.name == name } }

    /// The text of the first child with this name.
    func value(_ name: String) -> String? { child(name)?.text }

    /// Parses a document; nil when it is not well-formed XML.
    static func parse(_ data: Data) -> S3XMLElement? {
        guard !data.isEmpty else { return nil }
        let parser = XMLParser(data: data)
        let builder = Builder()
        parser.delegate = builder
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [S3XMLElement] = []
        var root: S3XMLElement?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(S3XMLElement(name: local))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            guard !stack.isEmpty else { return }
            stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
            guard let element = stack.popLast() else { return }
            if stack.isEmpty {
                root = element
            } else {
                stack[stack.count - 1].children.append(element)
            }
        }
    }
}

/// The `<Error>` document of a failed S3 request: only its Code and Message are ever shown
/// (S3 may add a StringToSign or a CanonicalRequest, which stay out of messages).
struct S3ErrorBody: Equatable {
    var code: String
    var message: String

    init?(_ data: Data) {
        guard let root = S3XMLElement.parse(data), root.name == "Error" else { return nil }
        self.init(root)
    }

    init?(_ element: S3XMLElement) {
        guard let code = element.value("Code"), !code.isEmpty else { return nil }
        self.code = code
        self.message = element.value("Message") ?? ""
    }
}

enum S3XMLText {
    /// Escapes text for an element's content. Returns nil for characters XML 1.0 cannot carry
    /// (most control characters), which no escaping can express.
    static func escape(_ text: String) -> String? {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n": out += "&#\(scalar.value);"
            case "\r": out += "&#13;"
            default:
                let v = scalar.value
                guard v >= 0x20, v != 0xFFFE, v != 0xFFFF else { return nil }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Keys of a listing made with `encoding-type=url`: percent-encoded, with `+` for a space.
    static func decodeURLEncoded(_ text: String) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
