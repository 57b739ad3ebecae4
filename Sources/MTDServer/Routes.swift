import Vapor

func routes(_ app: Application) throws {
    app.get("healthz", use: OperationsController.health)
    app.get("metrics", use: OperationsController.metrics)

    do { // agent API
        let agent = app.grouped("agent", "v1")
        agent.post("activate", use: AgentController.activate)
        let device = agent.grouped(DeviceAuthMiddleware())
        device.on(.POST, "checkin", body: .collect(maxSize: "4mb"), use: AgentController.checkIn)
        device.post("deactivate", use: AgentController.deactivate)
    }

    do { // admin API
        let api = app.grouped("api", "v1")
        api.get("openapi.json", use: OperationsController.openAPI)
        api.post("auth", "login", use: AuthController.login)
        let admin = api.grouped(AdminAuthMiddleware())
        admin.post("auth", "logout", use: AuthController.logout)
        admin.get("tokens", use: AuthController.listTokens)
        admin.post("tokens", use: AuthController.createToken)
        admin.delete("tokens", ":id", use: AuthController.deleteToken)
        admin.get("admins", use: AuthController.listAdmins)
        admin.post("admins", use: AuthController.createAdmin)
        admin.get("devices", use: DeviceController.list)
        admin.get("devices.csv", use: DeviceController.csv)
        admin.get("devices", ":id", use: DeviceController.detail)
        admin.post("devices", ":id", "deactivate", use: DeviceController.deactivate)
        admin.get("threats", use: ThreatController.list)
        admin.post("threats", ":id", "ignore", use: ThreatController.ignore)
        admin.post("threats", ":id", "unignore", use: ThreatController.unignore)
        admin.post("threats", ":id", "resolve", use: ThreatController.resolve)
        admin.get("policy", use: PolicyController.get)
        admin.on(.PUT, "policy", body: .collect(maxSize: "1mb"), use: PolicyController.put)
        admin.get("policy", "versions", use: PolicyController.versions)
        admin.get("enrollment-codes", use: EnrollmentCodeController.list)
        admin.post("enrollment-codes", use: EnrollmentCodeController.rotate)
        admin.post("enrollment-codes", ":id", "revoke", use: EnrollmentCodeController.revoke)
        admin.get("integrations", "uem", use: IntegrationController.get)
        admin.put("integrations", "uem", use: IntegrationController.put)
        admin.post("integrations", "uem", "test", use: IntegrationController.test)
        admin.post("integrations", "uem", "sync", use: IntegrationController.sync)
        admin.get("events", use: EventController.events)
        admin.get("audit", use: EventController.audit)
    }
}
