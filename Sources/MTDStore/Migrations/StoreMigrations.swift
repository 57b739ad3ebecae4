import FluentKit

/// The store's migrations, in order. Add new ones at the end; never edit a released one.
public enum StoreMigrations {
    public static let all: [any Migration] = [
        M001_CreateEnterprises(),
        M002_CreateEnrollmentCodes(),
        M003_CreateDevices(),
        M004_CreateDeviceApps(),
        M005_CreateThreats(),
        M006_CreateEvents(),
        M007_CreateAdmins(),
        M008_CreatePolicyVersions(),
        M009_AddDeviceRevision(),
        M010_IndexDeviceListing(),
        M011_AddUEMLinks(),
        M012_AddUEMIntegration(),
        M013_IndexAppInventory(),
        M014_UniqueDeviceIdentity(),
        M015_CreateConsumerLeases(),
        M016_CreateRateLimitBuckets(),
        M017_KeyUEMStateByConnection(),
        M018_IndexCheckInHour(),
        M019_AddListingOIDs(),
        M020_CreateResolverTokens(),
        M021_AddResolverLastQuery(),
        M022_CreateDNSDailyCounts(),
        M023_CreateDNSQueryLog(),
        M024_CreateUEMNotificationCredentials(),
    ]
}
