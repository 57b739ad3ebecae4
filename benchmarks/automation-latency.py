#!/usr/bin/env python3
"""Event to action: the time from a THREAT event's commit (its created_time, as the webhook body
carries it) to the webhook request arriving at a receiver on this machine, while check-ins open and
resolve threats at a target event rate, with RULES rules (one matches every opened threat; the
others filter on what the load never produces, so every event is still matched against all).
Prints one JSON line: achieved events/s, webhooks received, latency percentiles (ms).
Usage: automation-latency.py BASE_URL DEVICES EVENTS_PER_SECOND SECONDS RULES
"""
import concurrent.futures
import json
import sys
import threading
import time
import urllib.request

from webhook_receiver import WebhookReceiver

base, devices, rate, seconds, rule_count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
PASSWORD = "bench-password-123"


receiver = WebhookReceiver()
hook, keys, latencies = receiver.url, receiver.keys, receiver.latencies
collect = receiver.collect


def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        raw = response.read()
        return json.loads(raw) if raw else {}


admin = call("POST", "/api/v1/auth/login", {"email": "admin@openmtd.local", "password": PASSWORD})["token"]
code = next(c["code"] for c in call("GET", "/api/v1/enrollment-codes", token=admin) if c["usable"])
secret = "benchmark-webhook-secret-0001"
call("POST", "/api/v1/automations", {"name": "every opened threat", "trigger": {"type": "THREAT", "change": "CREATED"},
                                     "actions": [{"type": "webhook", "url": hook, "secret": secret}], "throttleSeconds": 0}, admin)
classifications = ["ROOT_JAILBREAK", "ROGUE_WIFI", "PHISHING_CONTENT", "OUT_OF_DATE_OS", "NO_DEVICE_LOCK"]
for index in range(rule_count - 1):
    if index % 2:
        trigger = {"type": "THREAT", "classifications": [classifications[index % len(classifications)]], "platforms": ["IOS"]}
    else:
        trigger = {"type": "DEVICE", "connectionTo": "DISCONNECTED", "platforms": ["IOS"]}
    call("POST", "/api/v1/automations", {"name": f"quiet rule {index}", "trigger": trigger,
                                         "actions": [{"type": "webhook", "url": hook, "secret": secret}]}, admin)


def activate(index):
    reply = call("POST", "/agent/v1/activate", {"enrollmentCode": code, "platform": "ANDROID", "mode": "EMBEDDED", "udid": f"auto-{index:05d}"})
    return reply["credential"]


pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)
credentials = list(pool.map(activate, range(devices)))
print(f"{devices} devices activated, {rule_count} rules", file=sys.stderr)


def document(version, infected):
    installed = [{"id": "com.apspy.app"}] if infected else []
    return {"schemaVersion": 1, "agent": {"mode": "EMBEDDED"},
            "device": {"platform": "ANDROID", "osVersion": "16", "securityPatchLevel": time.strftime("%Y-%m-01")},
            "posture": {"passcodeSet": True, "storageEncrypted": True},
            "apps": {"inventoryVersion": version, "complete": True, "installed": installed}}


# Each check-in flips a device between infected and clean: a THREAT and a DEVICE event each time.
checkins_per_second = rate / 2
versions = [0] * devices
sent, next_device, counter_lock = [0], [0], threading.Lock()
start = time.time()


def worker():
    while True:
        with counter_lock:
            elapsed = time.time() - start
            if elapsed >= seconds:
                return
            due = start + sent[0] / checkins_per_second
            index = next_device[0] % devices
            next_device[0] += 1
            sent[0] += 1
            versions[index] += 1
            version = versions[index]
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        call("POST", "/agent/v1/checkin", document(version, version % 2 == 1), credentials[index])


threads = [threading.Thread(target=worker) for _ in range(32)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.time() - start
# Every opened threat is one webhook: wait until the server's count of threats and the receiver agree.
opened = call("GET", "/api/v1/threats?pageSize=1", token=admin).get("total", 0)
deadline = time.time() + 60
while time.time() < deadline and len(keys) < opened:
    collect()
    time.sleep(0.2)
collect()
values = sorted(latencies)
duplicates = sum(count - 1 for count in keys.values())


def percentile(p):
    return round(values[min(len(values) - 1, int(len(values) * p))], 1) if values else None


print(json.dumps({
    "devices": devices, "rules": rule_count, "seconds": round(elapsed, 1), "checkins": sent[0],
    "events_per_second": round(2 * sent[0] / elapsed, 1), "threats_opened": opened, "webhooks": len(values), "duplicates": duplicates,
    "p50_ms": percentile(0.50), "p95_ms": percentile(0.95), "p99_ms": percentile(0.99), "max_ms": round(values[-1], 1) if values else None,
}))
sys.exit(0 if len(keys) == opened and duplicates == 0 else 1)
