import ArgumentParser
import Foundation
import MTDAgent
import MTDCore

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run one agent (the SDK) against a server, from a configuration file and a posture template.",
        discussion: """
        --config takes the Hub custom settings ({"mtdSettings": {...}}) or a managed app config (a JSON object of \
        DEVICE_UDID, MDM, EMAIL, GLOBAL_ENROLLMENT_CODE, SERVER_URL). --template is a check-in v1 document: its device, \
        posture, apps and network are the device's state; its activity and content are sent once as events. \
        The credential, outbox and inventory state are kept in --state-dir, so a restart carries on.
        """
    )

    @Option(name: .customLong("config"), help: "Hub custom settings or managed app config (JSON).") var config: String
    @Option(name: .customLong("template"), help: "Check-in template (JSON).") var template: String
    @Option(name: .customLong("server"), help: "Server when the configuration does not name one.") var server: String?
    @Option(name: .customLong("udid"), help: "The device's UDID (Hub custom settings do not carry it).") var udid: String?
    @Option(name: .customLong("state-dir"), help: "Folder for the credential, outbox and state.") var stateDirectory = "openmtd-agent"
    @Flag(name: .customLong("once"), help: "Check in once and exit.") var once = false

    func run() async throws {
        let configURL = URL(fileURLWithPath: config)
        guard let data = FileManager.default.contents(atPath: config) else { throw Terminal.badInput("\(config): cannot be read") }
        let defaultServer = server.flatMap(URL.init(string:))
        let configuration: AgentConfiguration
        do {
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], object["mtdSettings"] == nil {
                configuration = try AgentConfiguration.managedAppConfig(object, defaultServer: defaultServer)
            } else {
                configuration = try AgentConfiguration.hubCustomSettings(data, defaultServer: defaultServer, udid: udid)
            }
        } catch {
            throw Terminal.badInput("\(configURL.path): \(error)")
        }
        guard configuration.isEnabled else {
            Terminal.out("the MTD is disabled in \(config) (isEnabled: false); nothing to do")
            return
        }
        let source: TemplateDeviceSource
        do { source = try TemplateDeviceSource(contentsOf: URL(fileURLWithPath: template)) } catch { throw Terminal.badInput("\(error)") }
        let folder = URL(fileURLWithPath: stateDirectory)
        let agent: Agent
        do {
            agent = try Agent(
                configuration: configuration, options: Agent.Options(platform: await source.device().platform), source: source,
                credentials: FileCredentialStore(url: folder.appendingPathComponent("credential.json")),
                outbox: try FileOutbox(directory: folder.appendingPathComponent("outbox")),
                state: FileAgentStateStore(url: folder.appendingPathComponent("state.json")), transport: URLSessionTransport(),
                notices: { notice in Terminal.progress(Self.describe(notice)) },
                // Standalone: content protection is the resolver this machine resolves through.
                resolver: POSIXSystemResolver())
            try await agent.record(source.initialEvents)
        } catch {
            throw Terminal.failure("cannot start the agent: \(error); check that \(stateDirectory) is writable")
        }
        if once {
            do {
                let answer = try await agent.checkIn()
                Terminal.out("checked in: \(answer.securityStatus.rawValue), next check-in in \(answer.nextCheckInSeconds) s")
            } catch {
                throw Terminal.failure("check-in failed: \(error)")
            }
            return
        }
        Terminal.progress("agent running against \(configuration.serverURL.absoluteString); Ctrl-C stops it (the state in \(stateDirectory) is kept)")
        let task = Task { await agent.run() }
        let signals = DispatchSource.makeSignalSource(signal: SIGINT)
        signal(SIGINT, SIG_IGN)
        signals.setEventHandler { task.cancel() }
        signals.resume()
        await task.value
    }

    static func describe(_ notice: Agent.Notice) -> String {
        switch notice {
        case .activated(let device, let reactivated): "\(reactivated ? "reactivated" : "activated") as device \(device)"
        case .checkedIn(let status, let bytes): "checked in (\(bytes) bytes): \(status.rawValue)"
        case .retrying(let after, let reason): "check-in failed (\(reason)); retrying in \(Int(after.rounded())) s"
        case .eventsEvicted(let total): "the outbox was full: \(total) oldest events were dropped"
        }
    }
}
