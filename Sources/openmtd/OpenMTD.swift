import ArgumentParser

@main
struct OpenMTD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openmtd",
        abstract: "OpenMTD: self-hosted mobile threat defense.",
        discussion: "Exit codes: 0 success, 1 failure, 2 bad input (the message names the file and field), 64 usage.",
        version: "0.1.0",
        subcommands: [ServeCommand.self, UEMCommand.self, AgentCommand.self, SimulateCommand.self, EvaluateCommand.self, IntelCommand.self, DNSCommand.self, BenchCommand.self]
    )
}
