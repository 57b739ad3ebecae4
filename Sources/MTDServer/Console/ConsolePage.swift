import Foundation
import MTDCore
import Vapor

/// The page shell: navigation, the signed-in admin and role, and the content. Styles travel inline
/// with the page's CSP nonce; there are no external assets.
enum ConsolePage {
    enum Section: String, CaseIterable {
        case dashboard = "Dashboard"
        case devices = "Devices"
        case threats = "Threats"
        case apps = "Apps"
        case policies = "Policies"
        case integrations = "Integrations"
        case automations = "Automations"
        case applicationKeys = "Application keys"
        case audit = "Audit log"

        var path: String {
            switch self {
            case .dashboard: "/console"
            case .devices: "/console/devices"
            case .threats: "/console/threats"
            case .apps: "/console/apps"
            case .policies: "/console/policy"
            case .integrations: "/console/integrations"
            case .automations: "/console/automations"
            case .applicationKeys: "/console/application-keys"
            case .audit: "/console/audit"
            }
        }
    }

    static func render(_ req: Request, title: String, section: Section?, content: HTML, status: HTTPResponseStatus = .ok) -> Response {
        let nonce = req.cspNonce
        let context = req.storage[ConsoleContextKey.self]
        let navigation: HTML = context == nil ? "" : """
        <nav aria-label="Main"><ul>\(Section.allCases.map { item -> HTML in
            "<li><a href=\"\(item.path)\"\(item == section ? HTML(" aria-current=\"page\"") : "")>\(item.rawValue)</a></li>"
        })</ul></nav>
        """
        let account: HTML = context.map { context in
            """
            <div class="account"><span>\(context.principal.email)</span> <span class="role">\(context.principal.role.rawValue)</span>
            <form method="post" action="/console/logout" class="inline">\(csrfField(context.csrf))<button type="submit" class="link">Log out</button></form></div>
            """
        } ?? ""
        let banner: HTML = context?.policyProblem.map { problem in
            """
            <p class="notice error" role="alert" id="policy-problem">Policy version \(problem.version) cannot be used: \(problem.message). \
            Devices are still evaluated with version \(problem.servingVersion). Save a corrected policy on the <a href="/console/policy">policy page</a>.</p>
            """
        } ?? ""
        let keyBanner: HTML = (context?.expiringKeys ?? 0) > 0 ? """
        <p class="notice error" role="alert" id="keys-expiring">\(context?.expiringKeys ?? 0) application \((context?.expiringKeys ?? 0) == 1 ? "key expires" : "keys expire") \
        within 30 days; connectors using \((context?.expiringKeys ?? 0) == 1 ? "it" : "them") stop receiving events then. Create new keys on the \
        <a href="/console/application-keys">application keys page</a>.</p>
        """ : ""
        let page: HTML = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · OpenMTD</title><style nonce="\(nonce)">\(HTML(trusted: stylesheet))</style></head>
        <body><a class="skip" href="#main">Skip to content</a>
        <header><a class="brand" href="/console">OpenMTD</a>\(account)</header>
        <div class="shell">\(navigation)<main id="main"><h1>\(title)</h1>\(banner)\(keyBanner)\(content)</main></div>
        </body></html>
        """
        return page.response(status: status)
    }

    static func error(_ req: Request, status: HTTPResponseStatus, title: String, message: String) -> Response {
        render(req, title: title, section: nil, content: "<p class=\"notice error\" role=\"alert\">\(message)</p><p><a href=\"/console\">Back to the dashboard</a></p>", status: status)
    }

    static func csrfField(_ token: String) -> HTML {
        "<input type=\"hidden\" name=\"_csrf\" value=\"\(token)\">"
    }

    /// A coloured badge for a status word; the word itself carries the meaning (not only the colour).
    static func badge<Status: RawRepresentable>(_ status: Status) -> HTML where Status.RawValue == String {
        badge(status.rawValue)
    }

    static func badge(_ text: String) -> HTML {
        let tone: String
        switch text {
        case "SECURE", "ACTIVATED", "CONNECTED", "RESOLVED", "Compliant", "ACTIVE", "CONFIGURED": tone = "ok"
        case "THREATS_HIGH", "HIGH", "DISCONNECTED", "DELETED", "NonCompliant", "REVOKED", "EXPIRED": tone = "bad"
        case "THREATS_MEDIUM", "MEDIUM", "UNREACHABLE", "IGNORED", "NOT_CONFIGURED": tone = "warn"
        case "THREATS_LOW", "LOW", "PENDING": tone = "info"
        default: tone = "neutral"
        }
        return "<span class=\"badge \(tone)\">\(text.replacingOccurrences(of: "_", with: " ").lowercased())</span>"
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "never" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    /// `<select>` with a blank "any" choice; the label is tied to it for screen readers.
    static func select(_ name: String, label: String, options: [String], selected: String?) -> HTML {
        let choices = [HTML("<option value=\"\">any</option>")] + options.map { option in
            "<option value=\"\(option)\"\(option == selected ? HTML(" selected") : "")>\(option.replacingOccurrences(of: "_", with: " ").lowercased())</option>"
        }
        return "<label>\(label) <select name=\"\(name)\">\(choices)</select></label>"
    }

    /// Previous and next links keeping the other query parameters.
    static func pager(_ req: Request, page: Int, pageSize: Int, total: Int) -> HTML {
        let pages = max(1, (total + pageSize - 1) / pageSize)
        func link(_ target: Int, _ text: String) -> HTML {
            var items = (URLComponents(string: req.url.string)?.queryItems ?? []).filter { $0.name != "page" }
            items.append(URLQueryItem(name: "page", value: "\(target)"))
            var components = URLComponents()
            components.path = req.url.path
            components.queryItems = items
            return "<a href=\"\(components.string ?? req.url.path)\">\(text)</a>"
        }
        let previous: HTML = page > 0 ? link(page - 1, "← Previous") : ""
        let next: HTML = page + 1 < pages ? link(page + 1, "Next →") : ""
        return "<nav class=\"pager\" aria-label=\"Pages\">\(previous) <span>page \(page + 1) of \(pages) · \(total) in total</span> \(next)</nav>"
    }

    static let stylesheet = """
    :root{--ink:#1b2330;--muted:#4d5868;--line:#d7dce3;--bg:#f5f7fa;--card:#fff;--accent:#0b5cad;--ok:#1f7a3a;--bad:#b3261e;--warn:#8a5300;--info:#1d5d99}
    *{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
    a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #7fb2e8;outline-offset:1px}
    .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:2}
    header{display:flex;justify-content:space-between;align-items:center;padding:10px 20px;background:#14213d;color:#fff}
    header a.brand{color:#fff;font-weight:700;text-decoration:none;font-size:18px}.account{display:flex;gap:10px;align-items:center}
    .account .role{background:#fff;color:#14213d;border-radius:10px;padding:1px 8px;font-size:12px}
    button.link{background:none;border:0;color:#fff;text-decoration:underline;cursor:pointer;font:inherit}
    .shell{display:flex;min-height:calc(100vh - 48px)}nav[aria-label=Main]{width:190px;background:#fff;border-right:1px solid var(--line)}
    nav[aria-label=Main] ul{list-style:none;margin:0;padding:12px 0}nav[aria-label=Main] a{display:block;padding:8px 20px;color:var(--ink);text-decoration:none}
    nav[aria-label=Main] a[aria-current=page]{background:#e6eef8;font-weight:600;border-left:4px solid var(--accent)}
    main{flex:1;padding:20px 28px;min-width:0}h1{margin:0 0 16px;font-size:24px}h2{font-size:18px;margin:24px 0 10px}
    .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:14px}
    .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px}.card h2{margin-top:0;font-size:15px;color:var(--muted)}
    .figure{font-size:28px;font-weight:700}.muted{color:var(--muted)}
    table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line)}th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
    th{background:#eef1f5;font-weight:600}.table-wrap{overflow-x:auto}
    .badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;border:1px solid currentColor}
    .badge.ok{color:var(--ok)}.badge.bad{color:var(--bad)}.badge.warn{color:var(--warn)}.badge.info{color:var(--info)}.badge.neutral{color:var(--muted)}
    form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-end;margin-bottom:14px}label{display:inline-flex;flex-direction:column;font-size:13px;color:var(--muted);gap:3px}
    input,select,textarea{font:inherit;padding:5px 7px;border:1px solid #8a94a3;border-radius:5px;background:#fff;color:var(--ink)}
    button,.button{font:inherit;padding:6px 12px;border-radius:5px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
    button.secondary{background:#fff;color:var(--accent)}form.inline{display:inline}
    .notice{padding:10px 14px;border-radius:6px;border:1px solid var(--line);background:#fff}.notice.error{border-color:var(--bad);color:var(--bad)}.notice.ok{border-color:var(--ok);color:var(--ok)}
    .legend{list-style:none;padding:0;margin:8px 0 0;font-size:13px}.legend li{display:flex;justify-content:space-between;gap:8px}
    .pager{margin:12px 0;display:flex;gap:14px;align-items:center}dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}dt{color:var(--muted)}
    pre{white-space:pre-wrap;background:#fff;border:1px solid var(--line);padding:8px;border-radius:6px;font-size:13px}
    svg .c-secure{stroke:#2e8b57}svg .c-low{stroke:#3b7dd8}svg .c-medium{stroke:#d48a00}svg .c-high{stroke:#c0392b}svg .c-pending{stroke:#8c96a5}svg .c-other{stroke:#6b4fbb}
    svg .c-empty{stroke:#e1e5ea}svg .donut-total{font-size:26px;font-weight:700;fill:var(--ink)}svg .grid{stroke:#e1e5ea}svg .axis{font-size:11px;fill:var(--muted)}
    .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}.s-secure{background:#2e8b57}.s-low{background:#3b7dd8}.s-medium{background:#d48a00}.s-high{background:#c0392b}.s-pending{background:#8c96a5}.s-other{background:#6b4fbb}
    .sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}textarea{width:100%;font-family:ui-monospace,monospace;font-size:13px}
    h3{font-size:15px;margin:16px 0 6px;text-transform:capitalize}.problems li{margin:4px 0}
    @media (max-width:760px){.shell{flex-direction:column}nav[aria-label=Main]{width:auto;border-right:0;border-bottom:1px solid var(--line)}nav[aria-label=Main] ul{display:flex;flex-wrap:wrap;padding:4px}nav[aria-label=Main] a{padding:6px 10px}main{padding:14px}}
    """
}
