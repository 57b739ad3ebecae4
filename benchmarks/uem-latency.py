#!/usr/bin/env python3
"""Threat to access removal: the time from a check-in that detects a HIGH threat to the moment the
UEM has applied the risk tag and the Tunnel profile exclusion took effect, with N devices changing
at once. Two clocks start: when the check-in is sent (includes waiting for the server to process
1,000 check-ins that arrive together), and when its answer (THREATS_HIGH) arrives, i.e. the threat
is detected and committed; both stop at the UEM's ProfileRemoved event. The server runs `openmtd serve` with its built-in UEM; timestamps of the profile removals
come from the UEM's own event table (same machine, same clock).
Usage: uem-latency.py BASE_URL LOG_FILE SQLITE_FILE DEVICES
"""
import concurrent.futures
import json
import os
import re
import sqlite3
import statistics
import sys
import time
import urllib.request
import base64

base, log_file, db_file, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
MTD_PASSWORD, UEM_PASSWORD = "bench-password-123", "uem-bench-password-1"


def call(method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=120) as response:
        raw = response.read()
        return json.loads(raw) if raw else {}


# First-start secrets go to a file beside the database, never to the log.
secrets = os.path.join(os.path.dirname(db_file), "first-start-secrets.txt")
tenant = re.search(r"^uem_tenant_code: ([A-F0-9]+)$", open(secrets).read(), re.M).group(1)
uem_headers = {"aw-tenant-code": tenant, "Authorization": "Basic " + base64.b64encode(f"uemadmin:{UEM_PASSWORD}".encode()).decode()}


def uem(method, path, body=None):
    return call(method, path, body, uem_headers)


for _ in range(60):
    tags = uem("GET", "/API/mdm/tags/search").get("Tags", [])
    if any(t["TagName"] == "MTD – High Risk" for t in tags):
        break
    time.sleep(1)
high = next(t["Id"]["Value"] for t in tags if t["TagName"] == "MTD – High Risk")
all_group = uem("POST", "/API/mdm/smartgroups", {"Name": "All Android", "Platforms": ["Android"]})["SmartGroupID"]
risk_group = uem("POST", "/API/mdm/smartgroups", {"Name": "MTD High Risk", "Tags": [{"Id": high}]})["SmartGroupID"]
uem("POST", "/API/mdm/profiles", {"Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [all_group], "ExcludedSmartGroups": [risk_group]})

admin = call("POST", "/api/v1/auth/login", {"email": "admin@openmtd.local", "password": MTD_PASSWORD})["token"]
code = next(c["code"] for c in call("GET", "/api/v1/enrollment-codes", headers={"Authorization": "Bearer " + admin}) if c["usable"])

apps = [{"id": f"com.example.app{i}", "source": "PLAY_STORE"} for i in range(50)]


def document(version, complete, installed):
    return {"schemaVersion": 1, "agent": {"mode": "EMBEDDED"},
            "device": {"platform": "ANDROID", "osVersion": "16", "securityPatchLevel": time.strftime("%Y-%m-01")},
            "posture": {"passcodeSet": True, "storageEncrypted": True},
            "apps": {"inventoryVersion": version, "complete": complete, "installed": installed}}


def enroll(index):
    uem("POST", "/API/mdm/devices/enroll", {"Udid": f"lat-{index:05d}", "Platform": "Android", "UserName": f"user{index}"})


pool = concurrent.futures.ThreadPoolExecutor(max_workers=32)
list(pool.map(enroll, range(count)))
print(f"enrolled {count} devices in the UEM", file=sys.stderr)
deadline = time.time() + 120
while time.time() < deadline:
    devices = call("GET", "/api/v1/devices?pageSize=1&activation=PENDING", headers={"Authorization": "Bearer " + admin})
    if devices.get("total", 0) >= count:
        break
    time.sleep(1)
print("devices synced into the MTD as PENDING", file=sys.stderr)


def activate(index):
    activation = call("POST", "/agent/v1/activate", {"enrollmentCode": code, "platform": "ANDROID", "mode": "EMBEDDED", "udid": f"lat-{index:05d}"})
    credential = activation["credential"]
    call("POST", "/agent/v1/checkin", document(1, True, apps), {"Authorization": "Bearer " + credential})
    return credential


credentials = list(pool.map(activate, range(count)))
db = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
uem_ids = dict(db.execute("SELECT udid, id FROM uem_devices").fetchall())
deadline = time.time() + 300
while time.time() < deadline:
    installed = db.execute("SELECT COUNT(*) FROM uem_installed_profiles").fetchone()[0]
    secured = db.execute("SELECT COUNT(*) FROM uem_device_tags dt JOIN uem_tags t ON t.id = dt.tag_id WHERE t.name = 'MTD – Secured'").fetchone()[0]
    if installed >= count and secured >= count:
        break
    time.sleep(0.5)
print(f"activated; Tunnel installed on {installed}, secured {secured}", file=sys.stderr)

metrics_before = urllib.request.urlopen(base + "/metrics").read().decode()
sent, answered = {}, {}


def threat(index):
    device = uem_ids[f"lat-{index:05d}"]
    sent[device] = time.time()
    reply = call("POST", "/agent/v1/checkin", document(2, False, [{"id": "com.apspy.app", "source": "SIDELOADED"}]),
                 {"Authorization": "Bearer " + credentials[index]})
    # The answer says THREATS_HIGH: the threat is detected and committed.
    answered[device] = time.time()
    assert reply.get("securityStatus") == "THREATS_HIGH", reply


start = time.time()
list(concurrent.futures.ThreadPoolExecutor(max_workers=64).map(threat, range(count)))
send_seconds = time.time() - start
print(f"{count} threat check-ins answered in {send_seconds:.2f} s", file=sys.stderr)
deadline = time.time() + 120
removed = {}
while time.time() < deadline:
    rows = db.execute("SELECT device_id, MIN(event_time) FROM uem_events WHERE event_type = 'ProfileRemoved' GROUP BY device_id").fetchall()
    removed = {device: at for device, at in rows}
    if len(removed) >= count:
        break
    time.sleep(0.2)
latencies = sorted(max(0.0, removed[d] - sent[d]) for d in sent if d in removed)
after_detection = sorted(max(0.0, removed[d] - answered[d]) for d in answered if d in removed)
metrics_after = urllib.request.urlopen(base + "/metrics").read().decode()


def bulk_calls(text):
    total = 0
    for line in text.splitlines():
        if line.startswith("openmtd_http_requests_total") and ("adddevices" in line or "removedevices" in line):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def p(values, q):
    return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)


print(json.dumps({
    "devices": count, "profilesRemoved": len(latencies),
    "sentToRemoved": {"p50ms": p(latencies, 0.50), "p99ms": p(latencies, 0.99), "maxms": p(latencies, 1), "meanms": round(statistics.mean(latencies) * 1000, 1)},
    "detectedToRemoved": {"p50ms": p(after_detection, 0.50), "p99ms": p(after_detection, 0.99), "maxms": p(after_detection, 1)},
    "checkInsSentSeconds": round(send_seconds, 2),
    "bulkTagCalls": bulk_calls(metrics_after) - bulk_calls(metrics_before),
}))
