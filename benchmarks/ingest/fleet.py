#!/usr/bin/env python3
"""Activates a fleet against a running server and prepares wrk's inputs.

Each device activates with the enterprise's enrollment code, then sends one full check-in of a
typical device (50 apps, 20 activity hosts). The delta check-in that wrk replays afterwards is the
steady state: same inventory version, posture and activity.
Usage: fleet.py BASE_URL ADMIN_PASSWORD DEVICES OUT_DIR
"""
import concurrent.futures
import json
import pathlib
import sys
import urllib.request

if sys.argv[1] == "--body-only":
    base, password, count, out = None, None, 0, pathlib.Path(sys.argv[2])
else:
    base, password, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), pathlib.Path(sys.argv[4])
out.mkdir(parents=True, exist_ok=True)


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


HOSTS = ["www.google.com", "mail.google.com", "graph.facebook.com", "api.twitter.com", "outlook.office365.com",
         "login.microsoftonline.com", "www.linkedin.com", "slack.com", "edge-chat.facebook.com", "play.googleapis.com",
         "i.ytimg.com", "www.youtube.com", "api.spotify.com", "s3.eu-west-1.amazonaws.com", "cdn.jsdelivr.net",
         "www.wikipedia.org", "news.ycombinator.com", "teams.microsoft.com", "zoom.us", "www.nytimes.com"]


def document(complete):
    apps = [{"id": f"com.example.vendor{i % 9}.app{i}", "name": f"App {i}", "version": f"1.{i}.0", "source": "PLAY_STORE",
             "signerSha256": f"{(i * 7 + 3) % 256:02x}" * 32, "sha256": f"{(i * 13 + 5) % 256:02x}" * 32} for i in range(50)]
    return {
        "schemaVersion": 1,
        "agent": {"mode": "STANDALONE", "version": "1.0.0"},
        "device": {"platform": "ANDROID", "osVersion": "16", "securityPatchLevel": "2026-11-01", "apiLevel": 36, "manufacturer": "Google", "model": "Pixel 9"},
        "posture": {"passcodeSet": True, "storageEncrypted": True, "developerModeEnabled": False, "usbDebuggingEnabled": False,
                    "vpnPermissionGranted": True, "contentProtectionEnabled": True},
        "apps": {"inventoryVersion": 1, "complete": True, "installed": apps} if complete else {"inventoryVersion": 1, "complete": False, "installed": []},
        "network": {"wifi": {"ssid": "Corp", "security": "WPA2_ENTERPRISE"}},
        "activity": [{"app": f"com.example.vendor{i % 9}.app{i}", "host": host, "count": 3} for i, host in enumerate(HOSTS)],
    }


def threat_bodies():
    """The delta check-ins of the threat-opening benchmark (threats.lua fills in the version)."""
    for name, apps in (("install", {"installed": [{"id": "com.apspy.app", "name": "APSpy", "source": "SIDELOADED"}]}),
                       ("remove", {"installed": [], "removed": ["com.apspy.app"]})):
        body = document(False)
        body["apps"] = {"inventoryVersion": "__VERSION__", "complete": False, **apps}
        (out / f"checkin-{name}.json").write_text(json.dumps(body))


if base is None:
    (out / "checkin-delta.json").write_text(json.dumps(document(False)))
    threat_bodies()
    sys.exit(0)
admin = call("POST", "/api/v1/auth/login", {"email": "admin@openmtd.local", "password": password})["token"]
code = next(c["code"] for c in call("GET", "/api/v1/enrollment-codes", token=admin) if c["usable"])
full = document(True)


def enroll(index):
    activation = call("POST", "/agent/v1/activate", {"enrollmentCode": code, "platform": "ANDROID", "mode": "STANDALONE",
                                                    "udid": f"bench-{index:06d}", "email": f"user{index}@example.com"})
    call("POST", "/agent/v1/checkin", full, token=activation["credential"])
    return activation["credential"]


credentials = []
with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
    for done, credential in enumerate(pool.map(enroll, range(count)), start=1):
        credentials.append(credential)
        if done % 1000 == 0 or done == count:
            print(f"activated {done}/{count}", file=sys.stderr, flush=True)
(out / "credentials.txt").write_text("\n".join(credentials) + "\n")
(out / "checkin-delta.json").write_text(json.dumps(document(False)))
threat_bodies()
print(f"delta check-in body: {len((out / 'checkin-delta.json').read_bytes())} bytes; full: {len(json.dumps(full))} bytes", file=sys.stderr)
