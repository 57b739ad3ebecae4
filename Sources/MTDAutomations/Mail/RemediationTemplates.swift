import Foundation
import MTDCore

/// What an e-mail says about a threat: a plain-words title and the steps that remove it, per
/// classification. Written for the device's user (no jargon); admins get the same steps plus the
/// event's facts. Stalkerware has its own care: removing it alerts whoever installed it, so the
/// user is told to talk to the security team first, from another device.
public enum RemediationTemplates {
    public struct Template: Sendable, Equatable {
        public var title: String
        public var steps: [String]
    }

    public static func template(for classification: ThreatClassification?) -> Template {
        switch classification {
        case .surveillanceware, .spyware:
            Template(title: "an app that can watch what you do on this phone", steps: [
                "Do not remove the app yet: removing it can tell the person who installed it that you found it.",
                "From another phone or computer, contact your security team; they will help you decide when and how to remove it safely.",
                "If you feel unsafe, contact someone you trust or a local support service before changing anything on the phone.",
            ])
        case .rootJailbreak, .rootEnabler:
            Template(title: "this phone's built-in protections have been switched off (rooted or jailbroken)", steps: [
                "Back up your personal data.",
                "Restore the phone's original software: on an iPhone, update or restore it through Settings or a computer; on Android, reinstall the manufacturer's software or ask your IT team for help.",
                "Open the OpenMTD agent afterwards so the phone is checked again.",
            ])
        case .outOfDateOS, .vulnerability, .outOfDateASPL:
            Template(title: "this phone's software is out of date and has known security holes", steps: [
                "Connect to Wi-Fi and charge the phone.",
                "Install the latest update: Settings > General > Software Update on an iPhone, Settings > System > Software update on Android.",
                "If no update is offered, your phone may no longer get them: ask your IT team about a replacement.",
            ])
        case .phishingContent, .maliciousContent, .denylistedContent:
            Template(title: "a dangerous web page or link was opened on this phone", steps: [
                "Do not enter a password or payment details on that page; if you did, change that password now from another device.",
                "Close the page and delete the message that brought the link.",
                "Tell your security team if you entered anything.",
            ])
        case .trojan, .virus, .worm, .backdoor, .bot, .exploit, .appDropper, .tollFraud, .chargeware, .clickFraud, .adware, .riskware, .spam:
            Template(title: "a harmful app is installed on this phone", steps: [
                "Uninstall the app named below: press and hold its icon, then choose Remove or Uninstall.",
                "If it cannot be removed, contact your IT team; it may have made itself a device administrator.",
                "Open the OpenMTD agent afterwards so the phone is checked again.",
            ])
        case .sideloadedApp, .nonAppStoreSigner, .denylistedApp:
            Template(title: "an app from outside the official store (or one your organization does not allow) is installed", steps: [
                "Uninstall the app named below, or reinstall it from the App Store or Google Play if you need it.",
                "Open the OpenMTD agent afterwards so the phone is checked again.",
            ])
        case .unknownSourcesEnabled:
            Template(title: "this phone allows apps from unknown sources", steps: [
                "Open Settings > Apps > Special app access > Install unknown apps, and switch it off for every app.",
            ])
        case .usbDebuggingEnabled, .developerModeEnabled:
            Template(title: "developer options are switched on", steps: [
                "Open Settings > System > Developer options and switch them off (on an iPhone: Settings > Privacy & Security > Developer Mode).",
            ])
        case .noDeviceLock:
            Template(title: "this phone has no screen lock", steps: [
                "Set a PIN, password or pattern: Settings > Face ID & Passcode on an iPhone, Settings > Security on Android.",
            ])
        case .unencrypted:
            Template(title: "this phone's storage is not encrypted", steps: [
                "Set a screen lock (this turns on encryption on most phones), then open the OpenMTD agent again.",
                "If the warning stays, contact your IT team.",
            ])
        case .rogueWiFi, .activeMITM:
            Template(title: "the Wi-Fi network this phone used may be spying on its traffic", steps: [
                "Disconnect from that Wi-Fi network and forget it.",
                "Use mobile data or a network you trust until you are told otherwise.",
            ])
        default:
            Template(title: "a security problem was found on this phone", steps: [
                "Open the OpenMTD agent to see what was found and what to do.",
                "Contact your IT team if you need help.",
            ])
        }
    }
}
