/// Intelligence that cannot be loaded, naming the file (and where possible the line or JSON path).
public struct IntelligenceError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
