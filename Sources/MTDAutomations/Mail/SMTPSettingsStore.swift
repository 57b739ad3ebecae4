import FluentKit
import Foundation
import MTDCore
import MTDServices
import MTDStore
import UEMClient

/// One row per enterprise: the `SMTPSettings` document (with its password, which reads never show).
public final class SMTPSettingsModel: Model, @unchecked Sendable {
    public static let schema = "smtp_settings"

    @ID(key: .id) public var id: UUID?
    @Field(key: "enterprise_id") public var enterpriseID: UUID
    @Field(key: "document") public var document: String
    @Field(key: "updated_at") public var updatedAt: Date
    @Field(key: "updated_by") public var updatedBy: String

    public init() {}
}

/// Why SMTP settings were not saved or a test message not sent.
public enum SMTPSettingsError: Error, Sendable {
    case invalid(DocumentError)
    case egress(EgressGuard.Refused)
    case notConfigured
    case delivery(SMTPFailure)
}

extension Automations {
    /// The enterprise's relay, or nil before an owner saved one.
    public func smtpSettings(enterpriseID: UUID, on database: any Database) async throws -> (settings: SMTPSettings, updatedAt: Date, updatedBy: String)? {
        guard let row = try await SMTPSettingsModel.query(on: database).filter(\.$enterpriseID == enterpriseID).first() else { return nil }
        return (try JSONDecoder().decode(SMTPSettings.self, from: Data(row.document.utf8)), row.updatedAt, row.updatedBy)
    }

    /// Saves the relay. A password left out keeps the stored one when the username is unchanged,
    /// so an admin who edits the port does not have to type it again. Audited (never the password).
    public func saveSMTPSettings(_ proposed: SMTPSettings, enterpriseID: UUID, actor: EventParty, on database: any Database,
                                 now: Date) async throws -> SMTPSettings {
        var settings = proposed
        if settings.username != nil, settings.password == nil,
           let stored = try await smtpSettings(enterpriseID: enterpriseID, on: database)?.settings, stored.username == settings.username {
            settings.password = stored.password
        }
        do {
            try settings.validate()
        } catch {
            throw SMTPSettingsError.invalid(error)
        }
        do {
            _ = try await egress.addresses(of: settings.host, label: "smtp://\(settings.host):\(settings.port)")
        } catch {
            throw SMTPSettingsError.egress(error)
        }
        let document = StoredJSON.text(settings)
        let audit = Self.smtpAudit(settings, actor: actor, change: .updated)
        try await writes.run {
            try await database.transaction { tx in
                let row = try await SMTPSettingsModel.query(on: tx).filter(\.$enterpriseID == enterpriseID).first() ?? SMTPSettingsModel()
                row.enterpriseID = enterpriseID
                row.document = document
                row.updatedAt = now
                row.updatedBy = actor.guid ?? actor.type
                try await row.save(on: tx)
                try await EventLog.append([audit], enterpriseID: enterpriseID, on: tx, now: now)
            }
        }
        return settings
    }

    public func deleteSMTPSettings(enterpriseID: UUID, actor: EventParty, on database: any Database, now: Date) async throws -> Bool {
        try await writes.run {
            try await database.transaction { tx in
                guard let row = try await SMTPSettingsModel.query(on: tx).filter(\.$enterpriseID == enterpriseID).first(),
                      let settings = try? JSONDecoder().decode(SMTPSettings.self, from: Data(row.document.utf8)) else { return false }
                try await row.delete(on: tx)
                try await EventLog.append([Self.smtpAudit(settings, actor: actor, change: .deleted)], enterpriseID: enterpriseID, on: tx, now: now)
                return true
            }
        }
    }

    /// The console's and the API's test button: one message to `recipient` through the saved relay.
    public func sendTestMail(to recipient: String, enterpriseID: UUID, on database: any Database, now: Date) async throws {
        guard let settings = try await smtpSettings(enterpriseID: enterpriseID, on: database)?.settings else { throw SMTPSettingsError.notConfigured }
        let message = MailMessage(from: settings.from, to: [recipient], subject: "OpenMTD test message",
                                  body: "This is a test message from OpenMTD. E-mail actions of your automation rules will reach you through this relay.\n")
        do {
            try await SMTPClient(settings: settings, egress: egress).send(message, now: now)
        } catch {
            throw SMTPSettingsError.delivery(error)
        }
    }

    static func smtpAudit(_ settings: SMTPSettings, actor: EventParty, change: ChangeType) -> EventLog.NewEvent {
        EventLog.NewEvent(
            type: .audit, change: change, actor: actor, target: EventParty(type: "SMTP_RELAY", guid: nil),
            payload: AuditPayload(type: "SMTP_SETTINGS", changes: [
                .init(name: "host", to: settings.host), .init(name: "port", to: String(settings.port)),
                .init(name: "security", to: settings.security.rawValue), .init(name: "from", to: settings.from),
            ]))
    }
}
