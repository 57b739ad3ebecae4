import ArgumentParser

struct IntelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intel",
        abstract: "Inspect, query and extend threat intelligence.",
        subcommands: [IntelStatsCommand.self, IntelCheckCommand.self, IntelMatchCommand.self, IntelImportCommand.self]
    )
}
