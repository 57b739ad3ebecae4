import FluentKit
import Foundation
import MTDCore
import MTDDetection
import MTDStore
import Vapor

/// `/console/policy`: severities per classification (grouped by type, with the deployment modes that
/// can detect each), the rest of the policy as an editable document with errors shown in place, and
/// the history.
enum ConsolePolicyPage {
    static func show(_ req: Request) async throws -> Response {
        try await render(req, documentText: nil, error: nil, status: .ok)
    }

    static func render(_ req: Request, documentText: String?, error: DocumentError?, status: HTTPResponseStatus) async throws -> Response {
        let context = try req.console
        let current = try await req.application.mtd.policies.current(for: context.principal.enterpriseID, on: req.db, fresh: true)
        let canEdit = context.principal.role.canEditPolicy
        var groups: [HTML] = []
        for type in ThreatType.allCases {
            let rows: [HTML] = ThreatClassification.allCases.filter { $0.type == type }.map { classification in
                let severity = current.policy.severity(of: classification)
                let modes = DeploymentMode.allCases.filter { classification.isDetectable(in: $0) }.map { $0.rawValue.lowercased() }.joined(separator: ", ")
                let field: HTML = canEdit ? """
                <label class="visually-plain"><span class="sr">Severity of \(classification.rawValue)</span><select name="sev_\(classification.rawValue)">\(Severity.allCases.map { option -> HTML in
                    "<option value=\"\(option.rawValue)\"\(option == severity ? HTML(" selected") : "")>\(option.rawValue.lowercased())\(option == classification.defaultSeverity ? " (default)" : "")</option>"
                })</select></label>
                """ : ConsolePage.badge(severity.rawValue)
                return "<tr><th scope=\"row\">\(classification.rawValue.replacingOccurrences(of: "_", with: " ").lowercased())</th><td>\(classification.summary)</td><td>\(modes)</td><td>\(field)</td></tr>"
            }
            guard !rows.isEmpty else { continue }
            groups.append("""
            <h3>\(type.rawValue.lowercased())</h3><div class="table-wrap"><table><thead><tr><th scope="col">Classification</th><th scope="col">What it means</th>\
            <th scope="col">Detectable in</th><th scope="col">Severity</th></tr></thead><tbody>\(rows)</tbody></table></div>
            """)
        }
        let severities: HTML = canEdit
            ? "<form method=\"post\" action=\"/console/policy/severities\">\(ConsolePage.csrfField(context.csrf))\(groups)<p><button type=\"submit\">Save severities</button></p></form>"
            : "\(groups)"
        let text = documentText ?? String(decoding: PolicyDocument.encode(current.policy), as: UTF8.self)
        let problem: HTML = error.map { "<p class=\"notice error\" role=\"alert\" id=\"policy-error\">\($0.path): \($0.message)</p>" } ?? ""
        let document: HTML = canEdit ? """
        \(problem)<form method="post" action="/console/policy/document">\(ConsolePage.csrfField(context.csrf))
        <label for="policy-document">Policy (JSON or YAML): OS rules, app deny and allow lists, enterprise signers, trusted Wi-Fi, the content deny list, cloud services</label>
        <textarea id="policy-document" name="document" rows="18" cols="90" spellcheck="false"\(error == nil ? "" : HTML(" aria-describedby=\"policy-error\" aria-invalid=\"true\""))>\(text)</textarea>
        <p><button type="submit">Save policy</button></p></form>
        """ : "<pre>\(text)</pre>"
        let versions = try await PolicyVersionModel.query(on: req.db).filter(\.$enterpriseID == context.principal.enterpriseID).sort(\.$version, .descending).range(0..<20).all()
        let history: [HTML] = versions.map { "<tr><td>\($0.version)</td><td>\($0.createdBy)</td><td>\(ConsolePage.date($0.createdAt))</td></tr>" }
        let saved: HTML = req.query[String.self, at: "saved"] != nil ? "<p class=\"notice ok\" role=\"status\">Policy saved as version \(current.version); devices are being re-evaluated.</p>" : ""
        return ConsolePage.render(req, title: "Policy", section: .policies, content: """
        \(saved)<p class="muted">Version \(current.version). Web content classifications can only be detected by the standalone app (embedded agents see no web content).</p>
        <h2>Severities</h2>\(severities)<h2>Rules</h2>\(document)
        <h2>History</h2>\(versions.isEmpty ? [HTML("<p class=\"muted\">The default policy has not been changed.</p>")] : ["<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Version</th><th scope=\"col\">By</th><th scope=\"col\">When</th></tr></thead><tbody>\(history)</tbody></table></div>"])
        """, status: status)
    }

    static func saveSeverities(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canEditPolicy else { return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "The \(context.principal.role.rawValue) role cannot change the policy.") }
        let form = try req.content.decode([String: String].self)
        var policy = try await req.application.mtd.policies.current(for: context.principal.enterpriseID, on: req.db, fresh: true).policy
        for classification in ThreatClassification.allCases {
            guard let raw = form["sev_\(classification.rawValue)"] else { continue }
            guard let severity = Severity(rawValue: raw) else {
                return ConsolePage.error(req, status: .badRequest, title: "Not saved", message: "\(raw) is not a severity for \(classification.rawValue).")
            }
            policy.severities[classification] = severity
        }
        _ = try await PolicyController.save(policy, principal: context.principal, on: req)
        return req.redirect(to: "/console/policy?saved=1", redirectType: .normal)
    }

    static func saveDocument(_ req: Request) async throws -> Response {
        let context = try req.console
        guard context.principal.role.canEditPolicy else { return ConsolePage.error(req, status: .forbidden, title: "Not allowed", message: "The \(context.principal.role.rawValue) role cannot change the policy.") }
        let text = (try? req.content.get(String.self, at: "document")) ?? ""
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            let policy = try PolicyDocument.decode(Data(text.utf8), format: trimmed.hasPrefix("{") ? .json : .yaml)
            _ = try await PolicyController.save(policy, principal: context.principal, on: req)
        } catch let error as DocumentError {
            return try await render(req, documentText: text, error: error, status: .badRequest)
        }
        return req.redirect(to: "/console/policy?saved=1", redirectType: .normal)
    }
}
