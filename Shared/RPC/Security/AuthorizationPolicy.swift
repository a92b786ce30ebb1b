import Foundation
import Schema

/// Rules that refine which keys may call which methods, beyond the defaults each method's roles give, in the manner
/// of gRPC's authorization policy: allow and deny rules over principals (a key's name, a role, or anyone) and
/// method names; a deny rule that matches wins over everything, an allow rule adds to the defaults.
///
/// The file holds one rule a line; `#` starts a comment:
///
///     # The field laptop may record, but never merge or import.
///     deny  key:field-laptop-3  fairtrade.producer.v1.ProducerService/MergeProducerGroups
///     deny  key:field-laptop-3  fairtrade.producer.v1.ProducerService/ImportProducerGroups
///     # Auditors (readers) may read the audit trail.
///     allow role:reader         fairtrade.admin.v1.DataAdmin/ListAuditEvents
///     # Nobody edits through this instance during the migration.
///     deny  role:editor         fairtrade.assistance.v1.AssistanceService/*
///
/// Principals: `key:NAME`, `role:ROLE` or `*`. Methods: `Service/Method` with the service fully qualified,
/// `Service/*`, or `*`. Every name is checked against the schema, so a misspelt method is an error naming its line,
/// never a rule that silently matches nothing.
public struct AuthorizationPolicy: Sendable {
    public enum Effect: String, Sendable {
        case allow, deny
    }

    public enum Principal: Sendable, Hashable, CustomStringConvertible {
        case key(String)
        case role(Role)
        case anyone

        func matches(_ caller: Caller) -> Bool {
            switch self {
            case .key(let name): caller.keyName == name
            case .role(let role): caller.role == role
            case .anyone: true
            }
        }

        public var description: String {
            switch self {
            case .key(let name): "key:\(name)"
            case .role(let role): "role:\(role)"
            case .anyone: "*"
            }
        }
    }

    public struct Rule: Sendable, CustomStringConvertible {
        public let effect: Effect
        public let principal: Principal
        /// nil: every service.
        public let service: String?
        /// nil: every method of `service`.
        public let method: String?
        public let line: Int

        func applies(service: String, method: String) -> Bool {
            (self.service == nil || self.service == service) && (self.method == nil || self.method == method)
        }

        public var description: String {
            "\(effect) \(principal) \(service.map { "\($0)/\(method ?? "*")" } ?? "*")"
        }
    }

    /// The file the policy came from.
    public let file: String
    public let rules: [Rule]

    /// Reads and checks a policy file; the error names the file and the line at fault.
    public static func read(file: String) throws(CertificateError) -> AuthorizationPolicy {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw CertificateError(file: file, problem: "cannot be read: \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    /// Parses policy text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(CertificateError) -> AuthorizationPolicy {
        var rules: [Rule] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            let content = rawLine.prefix { $0 != "#" }
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            if words.isEmpty { continue }
            func fail(_ problem: String) -> CertificateError {
                CertificateError(file: file, line: line, problem: problem)
            }
            guard words.count == 3 else {
                throw fail(
                    "a rule is three words, \"allow|deny WHO METHOD\" (WHO: key:NAME, role:ROLE or *; METHOD: "
                        + "Service/Method, Service/* or *), not \(words.count)")
            }
            guard let effect = Effect(rawValue: words[0]) else {
                throw fail("\"\(words[0])\" is neither allow nor deny")
            }
            let principal: Principal
            if words[1] == "*" {
                principal = .anyone
            } else if words[1].hasPrefix("key:") {
                let name = String(words[1].dropFirst(4))
                guard CurveCertificate.validName(name) else { throw fail("\"\(name)\" is not a key name") }
                principal = .key(name)
            } else if words[1].hasPrefix("role:") {
                let name = String(words[1].dropFirst(5))
                guard let role = Role(rawValue: name) else {
                    throw fail("role \"\(name)\" is not one of \(Role.names)")
                }
                principal = .role(role)
            } else {
                throw fail("\"\(words[1])\" names no one: write key:NAME, role:ROLE or *")
            }
            let (service, method) = try target(words[2], fail)
            rules.append(Rule(effect: effect, principal: principal, service: service, method: method, line: line))
        }
        return AuthorizationPolicy(file: file, rules: rules)
    }

    /// `Service/Method`, `Service/*` or `*`, checked against the schema.
    private static func target(_ text: String, _ fail: (String) -> CertificateError) throws(CertificateError) -> (
        String?, String?
    ) {
        if text == "*" { return (nil, nil) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw fail("\"\(text)\" is not Service/Method, Service/* or *")
        }
        guard let schema = SchemaRegistry.service(named: parts[0]) else {
            let known = SchemaRegistry.services.map(\.name).filter { $0.hasSuffix("." + parts[0]) }
            throw fail(
                "\"\(parts[0])\" is not a service of the schema"
                    + (known.isEmpty ? "" : " (did you mean \(known.joined(separator: " or "))?)"))
        }
        if parts[1] == "*" { return (schema.name, nil) }
        guard schema.method(named: parts[1]) != nil else {
            throw fail("\"\(parts[1])\" is not a method of \(schema.name)")
        }
        return (schema.name, parts[1])
    }

    /// Whether `caller` may call `service`/`method`, given whether its role may by default. `rule` is the deny rule
    /// that refused it, or the allow rule that admitted it beyond the defaults.
    func decide(_ caller: Caller, service: String, method: String, byDefault: Bool) -> (allowed: Bool, rule: Rule?) {
        var allowedBy: Rule?
        for rule in rules where rule.principal.matches(caller) && rule.applies(service: service, method: method) {
            if rule.effect == .deny { return (false, rule) }
            if allowedBy == nil { allowedBy = rule }
        }
        if byDefault { return (true, nil) }
        return (allowedBy != nil, allowedBy)
    }
}
