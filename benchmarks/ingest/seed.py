#!/usr/bin/env python3
"""Seeds a large fleet straight into an OpenMTD SQLite database (schema created by the server):
activated devices with known credentials and a 50-app inventory each. Much faster than enrolling
100,000 devices over HTTP; wrk then checks them in over HTTP as usual.
Usage: seed.py SQLITE_FILE DEVICES OUT_DIR
"""
import hashlib
import json
import pathlib
import sqlite3
import sys
import time
import uuid

path, count, out = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
db = sqlite3.connect(path)
enterprise = db.execute("SELECT id FROM enterprises LIMIT 1").fetchone()[0]
now = time.time()
apps = [(f"com.example.vendor{i % 9}.app{i}", f"App {i}", f"1.{i}.0", "PLAY_STORE", None,
         f"{(i * 7 + 3) % 256:02x}" * 32, f"{(i * 13 + 5) % 256:02x}" * 32, None) for i in range(50)]
facts = json.dumps({"schemaVersion": 1, "agent": {"mode": "STANDALONE", "version": "1.0.0"},
                    "device": {"platform": "ANDROID", "osVersion": "16", "securityPatchLevel": "2026-11-01", "apiLevel": 36, "manufacturer": "Google", "model": "Pixel 9"}})
credentials = []
batch_devices, batch_apps = [], []
for n in range(count):
    device = str(uuid.uuid4()).upper()
    credential = f"mtdd_seed{n:07d}_{uuid.uuid4().hex}"
    credentials.append(credential)
    batch_devices.append((device, enterprise, f"seed-{n:07d}", f"user{n}@example.com", "ANDROID", "STANDALONE", "ACTIVATED", "CONNECTED", "SECURE",
                          hashlib.sha256(credential.encode()).hexdigest(), "16", "Pixel 9", "Google", "2026-11-01", "1.0.0", 1, facts, now, now, 0, now, now, 1))
    for app in apps:
        batch_apps.append((str(uuid.uuid4()).upper(), device, enterprise) + app)
    if len(batch_devices) == 2000 or n == count - 1:
        db.executemany("""INSERT INTO devices (id, enterprise_id, udid, email, platform, mode, activation_status, connection_status, security_status,
            credential_hash, os_version, model, manufacturer, security_patch_level, agent_version, inventory_version, last_facts, last_check_in_at,
            activated_at, policy_version, created_at, updated_at, revision) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""", batch_devices)
        db.executemany("""INSERT INTO device_apps (id, device_id, enterprise_id, app_id, name, version, source, signer_sha1, signer_sha256, sha256, permissions)
            VALUES (?,?,?,?,?,?,?,?,?,?,?)""", batch_apps)
        db.commit()
        batch_devices, batch_apps = [], []
        print(f"seeded {n + 1}/{count}", file=sys.stderr, flush=True)
out.mkdir(parents=True, exist_ok=True)
(out / "credentials.txt").write_text("\n".join(credentials) + "\n")
