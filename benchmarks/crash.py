#!/usr/bin/env python3
"""Crash and fault runs: kill -9 of `openmtd serve` under check-in load, and PostgreSQL restarts
under load. Results go to stdout as one line per run and to benchmarks/out/crash/summary.json.

What "nothing lost" means here:
- every check-in the server acknowledged (200) is in the database after the restart: each check-in
  carries the device's sequence number as its model name, and the stored facts must show that number
  or a later one;
- every event read from /api/v1/events before the crash is still there, unchanged, after it; event
  ids stay strictly increasing with no duplicates;
- no event-log consumer's cursor (UEM sync among them) moves backwards across a crash, and once the
  load stops every consumer reaches the head of the log (UEM sync resumed from its cursor);
- after each crash or restart, every device gets a check-in acknowledged again within 30 s;
- during a PostgreSQL outage the server answers 503 with Retry-After (never 500), recovers without a
  restart, and the clients' retries (what an agent's outbox does) all get through afterwards.

Usage: benchmarks/crash.py [--database sqlite|postgres] [--kills 3] [--pg-restarts 2] [--devices 40]
                           [--binary .build/debug/openmtd]
PostgreSQL runs use $CRASH_POSTGRES_URL (default postgres://openmtd:openmtd@127.0.0.1:5432/openmtd_crash,
recreated) and restart the local cluster with `pg_ctlcluster 15 main restart` (run as root).
"""
import argparse
import concurrent.futures
import json
import os
import pathlib
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks/out/crash"
PASSWORD = "crash-owner-password-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base, method, path, body=None, token=None, timeout=10, attempts=1):
    """One call; with attempts > 1, a 503, a timeout or a connection failure is retried (the reads of
    the checks, which may run while PostgreSQL is still coming back)."""
    for attempt in range(attempts):
        try:
            result = http_once(base, method, path, body, token, timeout)
            if result[0] != 503 or attempt == attempts - 1:
                return result
        except OSError:
            if attempt == attempts - 1:
                raise
        time.sleep(1)


def http_once(base, method, path, body=None, token=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else {}), dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            parsed = {"raw": raw[:200].decode(errors="replace")}
        return error.code, parsed, dict(error.headers)


class Server:
    def __init__(self, binary, data_dir, port, database_url):
        self.binary, self.data_dir, self.port, self.database_url = binary, data_dir, port, database_url
        self.base = f"http://127.0.0.1:{port}"
        self.process = None
        self.starts = 0
        self.label = "postgres" if database_url else "sqlite"

    def start(self):
        args = [str(self.binary), "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)]
        if self.database_url:
            args += ["--database-url", self.database_url]
        env = dict(os.environ, OPENMTD_ADMIN_PASSWORD=PASSWORD, OPENMTD_ACTIVATIONS_PER_MINUTE="100000",
                   OPENMTD_EGRESS_ALLOW="127.0.0.0/8,::1,localhost")
        self.starts += 1
        log = open(OUT / f"server-{self.label}-{self.starts}.log", "w")
        self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"openmtd serve exited with {self.process.returncode}; see {OUT}/server-{self.label}-{self.starts}.log")
            try:
                if http(self.base, "GET", "/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("openmtd serve did not come up within 120 s")

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def document(sequence):
    return {"schemaVersion": 1, "agent": {"mode": "EMBEDDED", "version": "1.0.0"},
            "device": {"platform": "ANDROID", "osVersion": "16", "model": f"seq-{sequence}", "manufacturer": "Crash"},
            "posture": {"passcodeSet": True}}


class Load:
    """Devices checking in as fast as the server takes them; a refused or failed check-in is retried
    (an agent's outbox), and only a 200 counts as acknowledged."""

    def __init__(self, server, devices):
        self.server, self.devices = server, devices
        self.acked = {device: 0 for device in devices}
        self.next = {device: 1 for device in devices}
        self.statuses = {}
        self.running = False
        self.lock = threading.Lock()

    def device_loop(self, device, credential):
        while self.running:
            sequence = self.next[device]
            try:
                status, _, headers = http(self.server.base, "POST", "/agent/v1/checkin", document(sequence), credential, timeout=5)
            except OSError as error:
                # While the server is killed: refused. During a PostgreSQL restart it stays up, so a
                # failure there is a timeout or a reset, named as such.
                reason = getattr(error, "reason", error)
                status, headers = "down:" + type(reason).__name__, {}
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                self.acked[device] = sequence
                self.next[device] = sequence + 1
            else:
                time.sleep(float(headers.get("Retry-After", 0.2)) if status == 503 else 0.2)

    def run(self, credentials):
        self.running = True
        self.threads = [threading.Thread(target=self.device_loop, args=(device, credentials[device]), daemon=True) for device in self.devices]
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.running = False
        for thread in self.threads:
            thread.join()


def read_events(base, token):
    events, after = [], 0
    while True:
        status, body, _ = http(base, "GET", f"/api/v1/events?after={after}&limit=1000", token=token, timeout=30, attempts=30)
        if status != 200:
            raise SystemExit(f"events: {status} {body}")
        page = body.get("events", [])
        events += page
        if len(page) < 1000:
            return events
        after = int(page[-1]["id"])


def recovered(server, token, seconds=60):
    """Whether the admin API answers 200 ten times in a row within `seconds` (after a restart)."""
    deadline, streak = time.time() + seconds, 0
    while time.time() < deadline and streak < 10:
        try:
            status = http_once(server.base, "GET", "/api/v1/devices?pageSize=1", token=token, timeout=5)[0]
        except OSError:
            status = None
        streak = streak + 1 if status == 200 else 0
        if streak < 10:
            time.sleep(0.3)
    return streak >= 10


def consumer_positions(base, token):
    """Each event-log consumer's committed cursor (UEM sync among them)."""
    status, body, _ = http(base, "GET", "/api/v1/consumers", token=token, attempts=30)
    if status != 200:
        raise SystemExit(f"/api/v1/consumers: {status} {body}")
    return {consumer["name"]: consumer for consumer in body["consumers"]}


def cursors_kept(base, token, before):
    """Problems if a consumer's cursor moved backwards across the crash."""
    after = consumer_positions(base, token)
    return [f"consumer {name}: cursor went back from {consumer['position']} to {after[name]['position']}"
            for name, consumer in before.items() if name in after and after[name]["position"] < consumer["position"]]


def consumers_caught_up(base, token, seconds=60):
    """Problems if some consumer has not reached the head of the log within `seconds` once the load stopped."""
    deadline = time.time() + seconds
    while True:
        behind = {name: c["lagEvents"] for name, c in consumer_positions(base, token).items() if c["lagEvents"] > 0}
        if not behind:
            return []
        if time.time() > deadline:
            return [f"consumers still behind the log {seconds} s after the load stopped: {behind}"]
        time.sleep(1)


def checkins_flowing(load, seconds=30):
    """Whether every device gets a check-in acknowledged again within `seconds`: the admin API
    answering is not enough (a wedged check-in path once kept the admin API healthy)."""
    start = dict(load.acked)
    deadline = time.time() + seconds
    while time.time() < deadline:
        if all(load.acked[device] > start[device] for device in start):
            return True
        time.sleep(0.5)
    return False


def check(server, token, devices, load, before_events, credentials):
    if not recovered(server, token):
        return ["the server did not answer reliably within 60 s (requests time out waiting for a database connection)"], []
    problems = []
    # Acknowledgements so far, taken before reading: the load goes on while this runs.
    acked = dict(load.acked)
    for device, device_id in devices.items():
        status, body, _ = http(server.base, "GET", f"/api/v1/devices/{device_id}", token=token, attempts=30)
        model = ((body.get("lastFacts") or {}).get("device") or {}).get("model") or ""
        stored = int(model.split("-")[1]) if model.startswith("seq-") else 0
        if stored < acked[device]:
            problems.append(f"{device}: acknowledged check-in {acked[device]} but stored {stored}")
    after_events = read_events(server.base, token)
    ids = [int(event["id"]) for event in after_events]
    if ids != sorted(set(ids)):
        problems.append("event ids are not strictly increasing or have duplicates")
    by_id = {event["id"]: event for event in after_events}
    lost = [event["id"] for event in before_events if by_id.get(event["id"]) != event]
    if lost:
        problems.append(f"{len(lost)} events read before the crash are missing or changed, e.g. {lost[:5]}")
    return problems, after_events


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--pg-restarts", type=int, default=2)
    parser.add_argument("--devices", type=int, default=40)
    parser.add_argument("--binary", default=str(ROOT / ".build/debug/openmtd"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = OUT / f"data-{args.database}"
    subprocess.run(["rm", "-rf", str(data_dir)], check=True)
    for old in OUT.glob(f"server-{args.database}-*.log"):
        old.unlink()
    database_url = None
    if args.database == "postgres":
        database_url = os.environ.get("CRASH_POSTGRES_URL", "postgres://openmtd:openmtd@127.0.0.1:5432/openmtd_crash")
        name = database_url.rsplit("/", 1)[1]
        subprocess.run(["su", "postgres", "-c", f"psql -qc 'DROP DATABASE IF EXISTS {name} WITH (FORCE)'"], check=True)
        subprocess.run(["su", "postgres", "-c", f"createdb -O openmtd {name}"], check=True)
    server = Server(pathlib.Path(args.binary), data_dir, free_port(), database_url)
    server.start()
    results = []
    load = None
    try:
        token = http(server.base, "POST", "/api/v1/auth/login", {"email": "admin@openmtd.local", "password": PASSWORD})[1]["token"]
        code = next(c["code"] for c in http(server.base, "GET", "/api/v1/enrollment-codes", token=token)[1] if c["usable"])
        credentials, device_ids = {}, {}
        for index in range(args.devices):
            device = f"crash-{index:04d}"
            status, body, _ = http(server.base, "POST", "/agent/v1/activate",
                                   {"enrollmentCode": code, "platform": "ANDROID", "mode": "EMBEDDED", "udid": device})
            if status != 201:
                raise SystemExit(f"activation: {status} {body}")
            credentials[device], device_ids[device] = body["credential"], body["deviceId"]
        load = Load(server, list(credentials))
        load.run(credentials)
        for round_number in range(1, args.kills + 1):
            time.sleep(random.uniform(2, 4))
            before_events = read_events(server.base, token)
            before_cursors = consumer_positions(server.base, token)
            time.sleep(random.uniform(0.5, 1.5))
            server.kill9()
            acked_at_kill = sum(load.acked.values())
            time.sleep(0.5)
            server.start()
            time.sleep(1)
            problems, _ = check(server, token, device_ids, load, before_events, credentials)
            if not checkins_flowing(load):
                problems.append("check-ins were not acknowledged again for every device within 30 s of the restart")
            problems += cursors_kept(server.base, token, before_cursors)
            results.append({"run": f"kill -9 #{round_number} ({args.database})", "acknowledgedCheckIns": acked_at_kill,
                            "eventsBefore": len(before_events), "problems": problems})
            print(f"kill -9 #{round_number} ({args.database}): {acked_at_kill} check-ins acknowledged so far, "
                  f"{len(before_events)} events read before the kill; lost: {len(problems)} problem(s) {problems[:3]}", flush=True)
        if args.database == "postgres":
            for round_number in range(1, args.pg_restarts + 1):
                time.sleep(2)
                before = dict(load.statuses)
                before_events = read_events(server.base, token)
                before_cursors = consumer_positions(server.base, token)
                subprocess.run(["pg_ctlcluster", "15", "main", "restart"], check=True)
                time.sleep(4)
                after = dict(load.statuses)
                delta = {key: after.get(key, 0) - before.get(key, 0) for key in after}
                problems, _ = check(server, token, device_ids, load, before_events, credentials)
                if not checkins_flowing(load):
                    problems.append("check-ins were not acknowledged again for every device within 30 s of the restart")
                problems += cursors_kept(server.base, token, before_cursors)
                if delta.get(500, 0):
                    problems.append(f"{delta[500]} answers were 500 during the restart")
                if server.process.poll() is not None:
                    problems.append("the server died")
                results.append({"run": f"PostgreSQL restart #{round_number}", "statusesDuringOutage": {str(k): v for k, v in delta.items()},
                                "problems": problems})
                print(f"PostgreSQL restart #{round_number}: answers during the outage {delta}; problems: {problems[:3]}", flush=True)
        time.sleep(2)
        load.stop()
        problems, events = check(server, token, device_ids, load, [], credentials)
        problems += consumers_caught_up(server.base, token)
        total = sum(load.acked.values())
        results.append({"run": f"final ({args.database})", "acknowledgedCheckIns": total, "events": len(events),
                        "statuses": {str(k): v for k, v in load.statuses.items()}, "problems": problems})
        print(f"final ({args.database}): {total} acknowledged check-ins, all answers {load.statuses}; problems: {problems[:3]}")
        # SIGTERM under load: requests in flight finish (or are refused), the process exits 0, no trap.
        load = Load(server, list(credentials))
        load.run(credentials)
        time.sleep(3)
        server.process.send_signal(signal.SIGTERM)
        try:
            code = server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            code = "still running after 20 s"
        load.stop()
        stop_problems = [] if code == 0 else [f"exit {code} after SIGTERM under load"]
        results.append({"run": f"SIGTERM under load ({args.database})", "problems": stop_problems})
        print(f"SIGTERM under load ({args.database}): exit {code}; problems: {stop_problems}")
    finally:
        if load and load.running:
            load.stop()
        server.stop()
        # A trap at shutdown (or any time) is a failure, whatever the checks said.
        for log in sorted(OUT.glob(f"server-{args.database}-*.log")):
            if "Fatal error" in log.read_text(errors="replace"):
                results.append({"run": f"log {log.name}", "problems": [f"Fatal error in {log}"]})
                print(f"Fatal error in {log}", file=sys.stderr)
    (OUT / f"summary-{args.database}.json").write_text(json.dumps(results, indent=2))
    return 1 if any(result["problems"] for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
