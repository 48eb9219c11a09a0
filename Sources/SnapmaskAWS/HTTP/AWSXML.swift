import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree of an AWS XML response (S3, and the query APIs: STS, RDS), read with
/// Foundation's XMLParser. Namespaces are ignored (S3 answers in
/// `http://s3.amazonaws.com/doc/2006-03-01/`, STS in `https://sts.amazonaws.com/doc/2011-06-15/`).
public struct AWSXMLElement: Sendable {
    public var name: String
    public var text: String = ""
    public var children: [AWSXMLElement] = []

    /// The first child with this name.
    public func child(_ name: String) -> AWSXMLElement? { children.first { $0.name == name } }

    /// Every child with this name.
    public func all(_ name: String) -> [AWSXMLElement] { children.filter { $0.name == name } }

    /// The text of the first child with this name.
    public func value(_ name: String) -> String? { child(name)?.text }

    /// Parses a document; nil when it is not well-formed XML.
    public static func parse(_ data: Data) -> AWSXMLElement? {
        guard !data.isEmpty else { return nil }
        let parser = XMLParser(data: data)
        let builder = Builder()
        parser.delegate = builder
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), let root = builder.root else { return nil }
        return root
    }

    /// The first element with this name anywhere below (depth first), for answers that wrap
    /// their result (`<XResponse><XResult>...`).
    public func find(_ name: String) -> AWSXMLElement? {
        for child in children {
            if child.name == name { return child }
            if let found = child.find(name) { return found }
        }
        return nil
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var stack: [AWSXMLElement] = []
        var root: AWSXMLElement?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
            let local = elementName.split(separator: ":").last.map(String.init) ?? elementName
            stack.append(AWSXMLElement(name: local))
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
