import Foundation
import MTDCore

extension AutomationRule {
    public static let longestDelaySeconds = 30 * 86_400

    /// Reads a rule from a request body; the error names the field to fix.
    public static func decode(_ data: Data) throws(DocumentError) -> AutomationRule {
        let rule = try parse(data)
        try rule.validate()
        return rule
    }

    private static func parse(_ data: Data) throws(DocumentError) -> AutomationRule {
        do {
            return try JSONDecoder().decode(AutomationRule.self, from: data)
        } catch {
            throw DocumentError(decoding: error)
        }
    }

    /// A changed rule sent back with the webhook secrets as they were shown (`placeholder`, since
    /// secrets are never shown): each placeholder keeps the stored secret of the webhook at the
    /// same place with the same URL; a new or moved webhook needs its secret typed in.
    public static func decode(_ data: Data, keepingSecretsShownAs placeholder: String, from stored: AutomationRule) throws(DocumentError) -> AutomationRule {
        var rule = try parse(data)
        for index in rule.actions.indices {
            guard case .webhook(var webhook) = rule.actions[index], webhook.secret == placeholder else { continue }
            guard stored.actions.indices.contains(index), case .webhook(let before) = stored.actions[index], before.url == webhook.url else {
                throw DocumentError(path: "$.actions[\(index)].secret",
                                    message: "type the secret: \(placeholder) keeps the stored one only for an unchanged webhook URL at the same place")
            }
            webhook.secret = before.secret
            rule.actions[index] = .webhook(webhook)
        }
        try rule.validate()
        return rule
    }

    /// What decoding cannot say: bounds, and filters that only make sense for one kind of event.
    public func validate() throws(DocumentError) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, name.count <= 200 else { throw DocumentError(path: "$.name", message: "must be 1 to 200 characters") }
        if let throttleSeconds, !(0...Self.longestDelaySeconds).contains(throttleSeconds) {
            throw DocumentError(path: "$.throttleSeconds", message: "must be from 0 to \(Self.longestDelaySeconds) seconds (30 days), got \(throttleSeconds)")
        }
        try trigger.validate()
        if let conditions { try conditions.validate(trigger: trigger) }
        guard (1...20).contains(actions.count) else { throw DocumentError(path: "$.actions", message: "a rule has 1 to 20 actions, got \(actions.count)") }
        if let digest {
            guard AutomationRule.TimeWindow.minutes(digest.at) != nil else {
                throw DocumentError(path: "$.digest.at", message: "expected a time of day such as 08:00 (UTC), got \"\(digest.at.prefix(20))\"")
            }
            if conditions?.stillOpenAfterSeconds != nil || conditions?.stillInStateAfterSeconds != nil {
                throw DocumentError(path: "$.digest", message: "a digest collects events for a day; it cannot also wait on a delay")
            }
            if let index = actions.firstIndex(where: { if case .uem = $0 { return true } else { return false } }) {
                throw DocumentError(path: "$.actions[\(index)].type", message: "a digest sends e-mail or webhooks; a UEM command acts on one device")
            }
            if let index = actions.firstIndex(where: { if case .email(let email) = $0 { return email.to == .deviceUser } else { return false } }) {
                throw DocumentError(path: "$.actions[\(index)].to", message: "a digest covers many devices: send it to admins or addresses")
            }
        }
        for (index, action) in actions.enumerated() {
            switch action {
            case .webhook(let webhook): try webhook.validate(path: "$.actions[\(index)]")
            case .uem(let action): try action.validate(path: "$.actions[\(index)]")
            case .email(let email): try email.validate(path: "$.actions[\(index)]")
            }
        }
    }
}

extension AutomationRule.Trigger {
    func validate() throws(DocumentError) {
        if let uemTags {
            guard (1...50).contains(uemTags.count) else { throw DocumentError(path: "$.trigger.uemTags", message: "give 1 to 50 UEM tag names; leave the field out to match all") }
            for (index, tag) in uemTags.enumerated() where tag.trimmingCharacters(in: .whitespaces).isEmpty || tag.count > 200 {
                throw DocumentError(path: "$.trigger.uemTags[\(index)]", message: "a UEM tag name of 1 to 200 characters")
            }
        }
        if let uemSmartGroups {
            guard (1...50).contains(uemSmartGroups.count) else {
                throw DocumentError(path: "$.trigger.uemSmartGroups", message: "give 1 to 50 smart group ids; leave the field out to match all")
            }
            for (index, group) in uemSmartGroups.enumerated() where group <= 0 {
                throw DocumentError(path: "$.trigger.uemSmartGroups[\(index)]", message: "a smart group id is a positive number, got \(group)")
            }
        }
        let threatOnly: [(String, Bool)] = [
            ("classifications", classifications != nil), ("minimumSeverity", minimumSeverity != nil), ("threatTypes", threatTypes != nil),
        ]
        let deviceOnly: [(String, Bool)] = [("connectionTo", connectionTo != nil), ("securityStatusTo", securityStatusTo != nil)]
        switch type {
        case .device:
            if let (field, _) = threatOnly.first(where: \.1) {
                throw DocumentError(path: "$.trigger.\(field)", message: "filters THREAT events; this trigger is for DEVICE events")
            }
        case .threat:
            if let (field, _) = deviceOnly.first(where: \.1) {
                throw DocumentError(path: "$.trigger.\(field)", message: "filters DEVICE events; this trigger is for THREAT events")
            }
        }
        for (field, list) in [("classifications", classifications?.count), ("threatTypes", threatTypes?.count), ("platforms", platforms?.count),
                              ("deploymentModes", deploymentModes?.count)] {
            if let list, list == 0 { throw DocumentError(path: "$.trigger.\(field)", message: "an empty list matches nothing; leave the field out to match all") }
        }
    }
}

extension AutomationRule.Conditions {
    func validate(trigger: AutomationRule.Trigger) throws(DocumentError) {
        let longest = AutomationRule.longestDelaySeconds
        if let stillOpenAfterSeconds {
            guard trigger.type == .threat, trigger.change != .updated else {
                throw DocumentError(path: "$.conditions.stillOpenAfterSeconds", message: "needs a trigger on THREAT events that open a threat (change CREATED)")
            }
            guard (1...longest).contains(stillOpenAfterSeconds) else {
                throw DocumentError(path: "$.conditions.stillOpenAfterSeconds", message: "must be from 1 to \(longest) seconds (30 days), got \(stillOpenAfterSeconds)")
            }
        }
        if let stillInStateAfterSeconds {
            guard trigger.type == .device, trigger.connectionTo != nil || trigger.securityStatusTo != nil else {
                throw DocumentError(path: "$.conditions.stillInStateAfterSeconds", message: "needs a DEVICE trigger on a transition (connectionTo or securityStatusTo)")
            }
            guard (1...longest).contains(stillInStateAfterSeconds) else {
                throw DocumentError(path: "$.conditions.stillInStateAfterSeconds", message: "must be from 1 to \(longest) seconds (30 days), got \(stillInStateAfterSeconds)")
            }
        }
        switch (count, withinSeconds) {
        case (nil, nil): break
        case (let count?, let within?):
            guard (1...10_000).contains(count) else { throw DocumentError(path: "$.conditions.count", message: "must be from 1 to 10000, got \(count)") }
            guard (1...longest).contains(within) else {
                throw DocumentError(path: "$.conditions.withinSeconds", message: "must be from 1 to \(longest) seconds (30 days), got \(within)")
            }
        case (nil, _?): throw DocumentError(path: "$.conditions.count", message: "withinSeconds needs count: how many events within the window")
        case (_?, nil): throw DocumentError(path: "$.conditions.withinSeconds", message: "count needs withinSeconds: the window the events fall in")
        }
        if let timeOfDay {
            guard AutomationRule.TimeWindow.minutes(timeOfDay.from) != nil else {
                throw DocumentError(path: "$.conditions.timeOfDay.from", message: "expected a time of day such as 08:00 (UTC), got \"\(timeOfDay.from)\"")
            }
            guard AutomationRule.TimeWindow.minutes(timeOfDay.to) != nil else {
                throw DocumentError(path: "$.conditions.timeOfDay.to", message: "expected a time of day such as 18:00 (UTC), got \"\(timeOfDay.to)\"")
            }
        }
    }
}

extension AutomationRule.Webhook {
    func validate(path: String) throws(DocumentError) {
        guard url.count <= 2_048, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = parsed.host, !host.isEmpty else {
            throw DocumentError(path: "\(path).url", message: "expected an https:// URL (http:// for a receiver on your own network)")
        }
        guard (16...256).contains(secret.count) else {
            throw DocumentError(path: "\(path).secret", message: "must be 16 to 256 characters; receivers check the signature with it")
        }
    }
}

extension AutomationRule.UEMAction {
    func validate(path: String) throws(DocumentError) {
        if command == .message {
            let text = message?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !text.isEmpty, text.count <= 2_000 else {
                throw DocumentError(path: "\(path).message", message: "a message command needs the text to show, 1 to 2000 characters")
            }
        } else if message != nil {
            throw DocumentError(path: "\(path).message", message: "only the message command has a text")
        }
        let tagged = command == .addTag || command == .removeTag
        if tagged {
            let name = tag?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !name.isEmpty, name.count <= 200 else {
                throw DocumentError(path: "\(path).tag", message: "\(command.rawValue) needs the UEM tag's name, 1 to 200 characters")
            }
        } else if tag != nil {
            throw DocumentError(path: "\(path).tag", message: "only addTag and removeTag name a tag")
        }
        if command == .setThreatLevel {
            guard level != nil else { throw DocumentError(path: "\(path).level", message: "setThreatLevel needs a level: NONE, LOW, MEDIUM or HIGH") }
        } else if level != nil {
            throw DocumentError(path: "\(path).level", message: "only setThreatLevel has a level")
        }
        if command.isDestructive, confirm != command.rawValue {
            throw DocumentError(path: "\(path).confirm", message: "a wipe must be confirmed: set \"confirm\" to \"\(command.rawValue)\"")
        }
    }
}

extension AutomationRule.Email {
    func validate(path: String) throws(DocumentError) {
        if to == .addresses {
            guard let addresses, (1...50).contains(addresses.count) else {
                throw DocumentError(path: "\(path).addresses", message: "to: addresses needs 1 to 50 e-mail addresses")
            }
            for (index, address) in addresses.enumerated() where !MailMessage.isAddress(address) {
                throw DocumentError(path: "\(path).addresses[\(index)]", message: "expected a bare e-mail address such as soc@example.com")
            }
        } else if addresses != nil {
            throw DocumentError(path: "\(path).addresses", message: "only to: addresses takes a list; \(to.rawValue) finds its own recipients")
        }
        if let note, note.count > 2_000 { throw DocumentError(path: "\(path).note", message: "must be at most 2000 characters") }
    }
}
