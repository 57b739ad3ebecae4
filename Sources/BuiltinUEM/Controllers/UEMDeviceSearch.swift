import Fluent
import Foundation
import Vapor

/// The enrolled device a request's `searchby` and `id` name (DeviceId, Udid, SerialNumber,
/// MacAddress, ImeiNumber; any case, as Workspace ONE accepts `Serialnumber`), for commands,
/// messages and `GET /API/mdm/devices?searchby=&id=`.
enum UEMDeviceSearch {
    static func find(_ req: Request) async throws -> UEMDevice {
        guard let by = req.query[String.self, at: "searchby"], let value = req.query[String.self, at: "id"], !value.isEmpty else {
            throw UEMError.invalid("searchby and id are required, e.g. searchby=Udid&id=….")
        }
        var query = UEMDevice.query(on: req.db).filter(\.$enrollmentStatus == "Enrolled")
        switch by.lowercased() {
        case "deviceid":
            guard let id = Int(value) else { throw UEMError.notFound("Device") }
            query = query.filter(\.$id == id)
        case "udid": query = query.filter(\.$udid == value)
        case "serialnumber": query = query.filter(\.$serialNumber == value)
        case "macaddress": query = query.filter(\.$macAddress == value)
        case "imeinumber": query = query.filter(\.$imei == value)
        default: throw UEMError.invalid("searchby must be DeviceId, Udid, SerialNumber, MacAddress or ImeiNumber, not \(by.prefix(100)).")
        }
        guard let device = try await query.first() else { throw UEMError.notFound("Device") }
        return device
    }
}
