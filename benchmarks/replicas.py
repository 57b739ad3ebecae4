#!/usr/bin/env python3
"""Several `openmtd serve` replicas on one PostgreSQL behind nginx, checked as one server.

1. N replicas start on a fresh database; nginx (from Debian's packages) balances over them.
2. DEVICES phones enrol in the built-in UEM; UEM device sync (one replica, under its lease) brings
   them in as PENDING.
3. Every phone's agent activates through nginx; a share of them activates twice at once (an agent
   retrying after a timeout). Then each checks in. There must be exactly one MTD device per phone.
4. Every device's tags in the built-in UEM must match its state ("MTD – Activated", "MTD – Secured"),
   and no bulk call may have asked for a change that was already in effect.
5. A burst: every phone reports a HIGH threat; during it the replica holding the UEM-sync lease is
   killed with SIGKILL. Another replica must take the lease over within 10 s, and every device must
   end up tagged "MTD – High Risk" with its Tunnel profile removed: no change lost.
6. Automations across the same kill: a rule calls a signed webhook (a receiver in its own process)
   for every opened threat. Every threat of the burst must reach the receiver (no action lost). An
   action the killed replica had sent but not yet recorded is sent again by the new holder with the
   same idempotency key (at least once; a receiver that drops a repeated key acts once): those
   repeats are counted, and must stay within what one replica can have in flight (its 16 action
   slots plus the results of one 50 ms write window). The replica killed held the automations lease
   too (the first replica takes every lease), which the figures say.

Prints one JSON line of figures; exits non-zero when a check fails.
Usage: replicas.py --binary .build/debug/openmtd [--replicas 2] [--devices 1000] [--database-url URL]
"""
import argparse
import base64
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from webhook_receiver import WebhookReceiver

parser = argparse.ArgumentParser()
parser.add_argument("--binary", required=True)
parser.add_argument("--replicas", type=int, default=2)
parser.add_argument("--devices", type=int, default=1000)
parser.add_argument("--duplicate-share", type=float, default=0.1, help="share of phones that activate twice at once")
parser.add_argument("--server-url", default=os.environ.get("OPENMTD_TEST_POSTGRES_SERVER", "postgres://openmtd:openmtd@127.0.0.1:5432"))
parser.add_argument("--database", default="openmtd_replicas")
parser.add_argument("--out", default="benchmarks/out/replicas")
parser.add_argument("--base-port", type=int, default=8110)
parser.add_argument("--no-kill", action="store_true", help="skip killing the lease holder")
args = parser.parse_args()

MTD_PASSWORD, UEM_PASSWORD = "replica-password-123", "replica-uem-password-1"
database_url = f"{args.server_url}/{args.database}"
out = os.path.abspath(args.out)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print(f"FAILED: {message}", file=sys.stderr)


def psql(sql, database=None):
    url = f"{args.server_url}/{database or args.database}"
    return subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True).stdout.strip()


# A fresh database.
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
psql(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)", database="postgres")
psql(f"CREATE DATABASE {args.database}", database="postgres")

with open(os.path.join(out, "config.yaml"), "w") as config:
    config.write("uemDeviceSyncSeconds: 2\nactivationAttemptsPerMinute: 100000000\n")
replicas = {}


def start_replica(index):
    port = args.base_port + index
    log = open(os.path.join(out, f"replica-{index}.log"), "w")
    env = dict(os.environ, OPENMTD_ADMIN_PASSWORD=MTD_PASSWORD, OPENMTD_UEM_ADMIN_PASSWORD=UEM_PASSWORD)
    process = subprocess.Popen(
        [args.binary, "serve", "--port", str(port), "--database-url", database_url, "--data-dir", os.path.join(out, f"data-{index}"),
         "--config", os.path.join(out, "config.yaml"), "--trusted-proxy", "127.0.0.1", "--egress-allow", "127.0.0.0/8"],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    replicas[index] = {"port": port, "process": process}
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return
        except Exception:
            if process.poll() is not None:
                sys.exit(f"replica {index} exited; see {out}/replica-{index}.log")
            time.sleep(0.5)
    sys.exit(f"replica {index} did not answer /healthz; see {out}/replica-{index}.log")


def stop_all():
    processes = [r["process"] for r in replicas.values()] + ([nginx] if nginx else [])
    for process in processes:
        if process.poll() is None:
            process.terminate()
    # The next run reuses the ports: wait for every process to be gone.
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


receiver = WebhookReceiver()
hook_url, hook_keys, collect_hooks = receiver.url, receiver.keys, receiver.collect


nginx = None
try:
    # The first replica creates the schema; the others start against it.
    start_replica(1)
    for index in range(2, args.replicas + 1):
        start_replica(index)
    balancer_port = args.base_port
    upstreams = "\n".join(f"    server 127.0.0.1:{r['port']} max_fails=1 fail_timeout=2s;" for r in replicas.values())
    user = "user root;" if os.geteuid() == 0 else ""
    with open(os.path.join(out, "nginx.conf"), "w") as conf:
        conf.write(f"""{user}
worker_processes 1;
pid {out}/nginx.pid;
error_log {out}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {out}/nginx-body; proxy_temp_path {out}/nginx-proxy;
  fastcgi_temp_path {out}/nginx-fastcgi; uwsgi_temp_path {out}/nginx-uwsgi; scgi_temp_path {out}/nginx-scgi;
  upstream openmtd {{
{upstreams}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{balancer_port};
    client_max_body_size 2m;
    location / {{
      proxy_pass http://openmtd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout;
    }}
  }}
}}
""")
    nginx = subprocess.Popen(["nginx", "-c", os.path.join(out, "nginx.conf"), "-p", out, "-e", os.path.join(out, "nginx-error.log")])
    base = f"http://127.0.0.1:{balancer_port}"
    for _ in range(50):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except Exception:
            time.sleep(0.1)

    def call(method, path, body=None, headers=None, url=None, attempts=5):
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(attempts):
            request = urllib.request.Request((url or base) + path, data=data, method=method)
            request.add_header("Content-Type", "application/json")
            for key, value in (headers or {}).items():
                request.add_header(key, value)
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    raw = response.read()
                    return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as error:
                # A replica that was just killed answers nothing; nginx says 502. Agents retry.
                if error.code in (502, 503, 504) and attempt + 1 < attempts:
                    time.sleep(0.5)
                    continue
                raise
            except (urllib.error.URLError, ConnectionError):
                if attempt + 1 < attempts:
                    time.sleep(0.5)
                    continue
                raise

    secrets = open(os.path.join(out, "data-1", "first-start-secrets.txt")).read()
    tenant = re.search(r"^uem_tenant_code: ([A-F0-9]+)$", secrets, re.M).group(1)
    uem_headers = {"aw-tenant-code": tenant, "Authorization": "Basic " + base64.b64encode(f"uemadmin:{UEM_PASSWORD}".encode()).decode()}

    def uem(method, path, body=None):
        return call(method, path, body, uem_headers)

    for _ in range(120):
        tags = uem("GET", "/API/mdm/tags/search").get("Tags", [])
        if any(t["TagName"] == "MTD – High Risk" for t in tags):
            break
        time.sleep(0.5)
    high = next(t["Id"]["Value"] for t in tags if t["TagName"] == "MTD – High Risk")
    all_group = uem("POST", "/API/mdm/smartgroups", {"Name": "All Android", "Platforms": ["Android"]})["SmartGroupID"]
    risk_group = uem("POST", "/API/mdm/smartgroups", {"Name": "MTD High Risk", "Tags": [{"Id": high}]})["SmartGroupID"]
    uem("POST", "/API/mdm/profiles", {"Name": "Workspace ONE Tunnel", "AssignedSmartGroups": [all_group], "ExcludedSmartGroups": [risk_group]})
    admin = call("POST", "/api/v1/auth/login", {"email": "admin@openmtd.local", "password": MTD_PASSWORD})["token"]
    auth = {"Authorization": "Bearer " + admin}
    code = next(c["code"] for c in call("GET", "/api/v1/enrollment-codes", headers=auth) if c["usable"])

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=32)
    count = args.devices
    list(pool.map(lambda i: uem("POST", "/API/mdm/devices/enroll", {"Udid": f"rep-{i:05d}", "Platform": "Android", "UserName": f"user{i}"}), range(count)))
    deadline = time.time() + 180
    while time.time() < deadline:
        if call("GET", "/api/v1/devices?pageSize=1&activation=PENDING", headers=auth).get("total", 0) >= count:
            break
        time.sleep(1)
    print(f"{count} phones enrolled in the UEM and synced in as PENDING", file=sys.stderr)

    def document(version, complete, installed):
        return {"schemaVersion": 1, "agent": {"mode": "EMBEDDED"},
                "device": {"platform": "ANDROID", "osVersion": "16", "securityPatchLevel": time.strftime("%Y-%m-01")},
                "posture": {"passcodeSet": True, "storageEncrypted": True},
                "apps": {"inventoryVersion": version, "complete": complete, "installed": installed}}

    duplicates = set(range(0, count, max(1, int(round(1 / args.duplicate_share))))) if args.duplicate_share > 0 else set()

    def activate(index):
        body = {"enrollmentCode": code, "platform": "ANDROID", "mode": "EMBEDDED", "udid": f"rep-{index:05d}"}
        if index in duplicates:
            # Two activations of one phone at once, on whichever replicas nginx picks.
            barrier = threading.Barrier(2)

            def once():
                barrier.wait()
                return call("POST", "/agent/v1/activate", body)

            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as twins:
                list(twins.map(lambda _: once(), range(2)))
        # The agent's last activation is the one whose credential counts.
        credential = call("POST", "/agent/v1/activate", body)["credential"]
        call("POST", "/agent/v1/checkin", document(1, True, []), {"Authorization": "Bearer " + credential})
        return credential

    started = time.time()
    credentials = list(pool.map(activate, range(count)))
    activation_seconds = time.time() - started
    devices = int(psql("SELECT COUNT(*) FROM devices"))
    duplicated = int(psql("SELECT COUNT(*) FROM (SELECT udid FROM devices WHERE udid IS NOT NULL GROUP BY enterprise_id, udid HAVING COUNT(*) > 1) d"))
    check(devices == count, f"{devices} MTD devices for {count} phones")
    check(duplicated == 0, f"{duplicated} phones have more than one MTD device")
    print(f"activated {count} ({len(duplicates)} twice at once) in {activation_seconds:.1f} s; {devices} devices", file=sys.stderr)

    def tagged(tag):
        return int(psql(f"SELECT COUNT(*) FROM uem_device_tags dt JOIN uem_tags t ON t.id = dt.tag_id WHERE t.name = '{tag}'"))

    def wait_for(what, condition, seconds):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if condition():
                return True
            time.sleep(0.5)
        check(False, f"{what} within {seconds} s")
        return False

    wait_for("every device tagged Activated and Secured", lambda: tagged("MTD – Activated") == count and tagged("MTD – Secured") == count, 120)
    wait_for("no tag left from before activation", lambda: tagged("MTD – Pending") == 0, 60)

    def repeated_changes():
        total = 0
        for index in replicas:
            for line in open(os.path.join(out, f"replica-{index}.log"), errors="replace"):
                match = re.search(r"unchanged=(\d+)", line)
                if match and "already in effect" in line:
                    total += int(match.group(1))
        return total

    repeated_before_kill = repeated_changes()
    check(repeated_before_kill == 0, f"bulk calls asked for {repeated_before_kill} tag changes already in effect")

    def lease_holder(name="uem-tags"):
        for replica in replicas.values():
            if replica["process"].poll() is not None:
                continue
            try:
                consumers = call("GET", "/api/v1/consumers", headers=auth, url=f"http://127.0.0.1:{replica['port']}", attempts=1)["consumers"]
            except Exception:
                continue
            holder = next((c.get("leaseHolder") for c in consumers if c["name"] == name), None)
            if holder:
                return holder
        return None

    holder_before = lease_holder()
    automations_holder = lease_holder("automations")
    call("POST", "/api/v1/automations", {"name": "every opened threat", "trigger": {"type": "THREAT", "change": "CREATED"},
                                         "actions": [{"type": "webhook", "url": hook_url, "secret": "replica-webhook-secret-01"}],
                                         "throttleSeconds": 0}, auth)
    killed, takeover_seconds = None, None
    burst_done = threading.Event()

    def burst():
        def threat(index):
            reply = call("POST", "/agent/v1/checkin", document(2, False, [{"id": "com.apspy.app", "source": "SIDELOADED"}]),
                         {"Authorization": "Bearer " + credentials[index]})
            return reply.get("securityStatus")

        results = list(concurrent.futures.ThreadPoolExecutor(max_workers=32).map(threat, range(count)))
        check(all(r == "THREATS_HIGH" for r in results), "every threat check-in answered THREATS_HIGH")
        burst_done.set()

    burst_started = time.time()
    burst_thread = threading.Thread(target=burst)
    burst_thread.start()
    if not args.no_kill and args.replicas > 1 and holder_before:
        # Kill the holder once a part of the burst has gone through.
        time.sleep(1.0)
        pid = int(holder_before.split(":")[1])
        index = next(i for i, r in replicas.items() if r["process"].pid == pid)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        killed = index
        print(f"killed replica {index} (pid {pid}), the UEM-sync lease holder", file=sys.stderr)
        while time.time() - killed_at < 30:
            holder = lease_holder()
            if holder and holder != holder_before:
                takeover_seconds = time.time() - killed_at
                break
            time.sleep(0.1)
        check(takeover_seconds is not None and takeover_seconds < 10, f"lease taken over within 10 s (took {takeover_seconds})")
    burst_thread.join()
    burst_seconds = time.time() - burst_started
    # Adding High Risk and removing Secured are separate bulk calls that run side by side, so the
    # end state is only checked as a whole: waiting on High Risk alone raced the removals.
    converged = wait_for("every device tagged High Risk, none Secured, Tunnel removed",
                         lambda: tagged("MTD – High Risk") == count and tagged("MTD – Secured") == 0
                         and int(psql("SELECT COUNT(*) FROM uem_installed_profiles")) == 0, 120)
    convergence_seconds = time.time() - burst_started
    if not converged:
        print(f"left: {tagged('MTD – Secured')} still Secured, {count - tagged('MTD – High Risk')} not High Risk", file=sys.stderr)
    pending = int(psql("SELECT COUNT(*) FROM devices d WHERE d.security_status = 'THREATS_HIGH'"))
    check(pending == count, f"{pending} MTD devices are THREATS_HIGH")
    # Every opened threat is one webhook, each idempotency key once.
    threats = int(psql("SELECT COUNT(*) FROM threats"))
    deadline = time.time() + 120
    while time.time() < deadline and len(hook_keys) < threats:
        collect_hooks()
        time.sleep(0.2)
    collect_hooks()
    doubled = sum(n - 1 for n in hook_keys.values())
    check(len(hook_keys) == threats, f"{len(hook_keys)} of {threats} opened threats reached the automation webhook")
    check(doubled <= 100, f"{doubled} automation webhooks were sent again after the kill (at most 100 can have been in flight)")
    check(all(n <= 2 for n in hook_keys.values()), "no automation webhook was sent more than twice")
    print(json.dumps({
        "replicas": args.replicas, "devices": count, "activatedTwiceAtOnce": len(duplicates), "mtdDevices": devices, "duplicatePhones": duplicated,
        "activationSeconds": round(activation_seconds, 1), "killedReplica": killed, "leaseTakeoverSeconds": round(takeover_seconds, 2) if takeover_seconds else None,
        "burstSeconds": round(burst_seconds, 1), "convergedSeconds": round(convergence_seconds, 1) if converged else None,
        "repeatedChangesBeforeKill": repeated_before_kill, "repeatedChangesTotal": repeated_changes(),
        "automationsLeaseHolderKilled": bool(killed) and automations_holder == holder_before, "threatsOpened": threats,
        "webhookKeys": len(hook_keys), "webhooksSentAgain": doubled, "failures": failures,
    }))
finally:
    stop_all()

sys.exit(1 if failures else 0)
