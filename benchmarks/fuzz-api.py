#!/usr/bin/env python3
"""API fuzzing with schemathesis, from our own OpenAPI documents, with a credential for every role.

Starts `openmtd serve` (SQLite, built-in UEM) on a loopback port, creates an analyst and a read-only
admin, an API token for each role, an activated device and a built-in UEM API account, then runs
schemathesis once per credential with a fixed seed and a time budget. It passes when every run found
no server error, no response that contradicts the document and the server is still alive.

Usage: benchmarks/fuzz-api.py [--binary .build/debug/openmtd] [--seconds-per-run 40] [--seed 20261201]
Writes benchmarks/out/fuzz-api/{server.log,summary.json,<run>/…} and prints one line per run.

The server runs with its egress policy limited to loopback (OPENMTD_EGRESS_ALLOW), so a fuzzed UEM
URL can never make it connect to another machine; saving, testing and syncing a UEM connection are
fuzzed like everything else. /api/v1/auth/logout is left out of the authenticated runs because it
revokes the very token the run uses; the API tests cover it.
"""
import argparse
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, out, owner_password, uem_password):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, OPENMTD_ADMIN_EMAIL="owner@fuzz.test", OPENMTD_ADMIN_PASSWORD=owner_password,
                   OPENMTD_UEM_ADMIN_PASSWORD=uem_password,
                   OPENMTD_EGRESS_ALLOW="127.0.0.0/8,::1,localhost",
                   # Far above what the fuzzer sends, so it explores the API instead of the 429.
                   OPENMTD_MRA_REQUESTS_PER_MINUTE="1000000")
        self.log = open(out / "server.log", "w")
        self.process = subprocess.Popen([str(binary), "serve", "--port", str(self.port), "--data-dir", str(out / "data")],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"openmtd serve exited with {self.process.returncode} at start; see {out / 'server.log'}")
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=2)
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise SystemExit("openmtd serve did not answer /healthz within 120 s")

    def alive(self):
        if self.process.poll() is not None:
            return False
        try:
            urllib.request.urlopen(self.base + "/healthz", timeout=5)
            return True
        except (urllib.error.URLError, OSError):
            return False

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def call(base, method, path, body=None, token=None, basic=None, headers=None, raw_body=None):
    data = raw_body if raw_body is not None else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if raw_body is None:
        request.add_header("Content-Type", "application/json")
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if basic:
        import base64
        request.add_header("Authorization", "Basic " + base64.b64encode(basic.encode()).decode())
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else {}


SECRETS = []


def credentials(base, owner_password):
    """A bearer credential per role: owner, analyst, read-only (API tokens), and a device."""
    owner_session = call(base, "POST", "/api/v1/auth/login", {"email": "owner@fuzz.test", "password": owner_password})["token"]
    SECRETS.append(owner_session)
    result = {}
    for role in ("analyst", "read-only"):
        password = secrets.token_urlsafe(18)
        email = f"{role}@fuzz.test"
        call(base, "POST", "/api/v1/admins", {"email": email, "password": password, "role": role}, token=owner_session)
        session = call(base, "POST", "/api/v1/auth/login", {"email": email, "password": password})["token"]
        SECRETS.extend([password, session])
        scopes = ["read"] if role == "read-only" else ["read", "write"]
        result[role] = call(base, "POST", "/api/v1/tokens", {"name": f"fuzz {role}", "scopes": scopes}, token=session)["token"]
    result["owner"] = call(base, "POST", "/api/v1/tokens", {"name": "fuzz owner", "scopes": ["read", "write"]}, token=owner_session)["token"]
    code = next(c["code"] for c in call(base, "GET", "/api/v1/enrollment-codes", token=owner_session) if c["usable"])
    activation = call(base, "POST", "/agent/v1/activate", {"enrollmentCode": code, "platform": "ANDROID", "mode": "STANDALONE",
                                                           "udid": "fuzz-device-1", "agentVersion": "1.0.0"})
    result["device"] = activation["credential"]
    # The Mobile Risk API: an application key (every scope) and an access token bought with it.
    key = call(base, "POST", "/api/v1/application-keys", {"name": "fuzz", "scopes": ["events", "devices", "threats", "os-vulns"]},
               token=owner_session)["key"]
    result["application-key"] = key
    result["mra"] = call(base, "POST", "/oauth2/token", token=key, headers={"Content-Type": "application/x-www-form-urlencoded"},
                         raw_body=b"grant_type=client_credentials")["access_token"]
    SECRETS.extend(list(result.values()) + [code])
    return result, code


def schemathesis(name, location, base, header, out, seconds, seed, include=None, exclude=(), extra=()):
    run_dir = out / name
    run_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "schemathesis.cli", "run", location, "--url", base, "--checks", CHECKS, "--seed", str(seed), "--max-time", str(seconds),
               "--workers", "1", "--phases", "examples,coverage,fuzzing,stateful", "--request-timeout", "20",
               "--suppress-health-check", "all", "--warnings", "off", "--no-color",
               "--report", "junit,ndjson", "--report-dir", str(run_dir)]
    if header:
        command += ["--header", header]
    command += list(extra)
    if include:
        command += ["--include-path-regex", include]
    for pattern in exclude:
        command += ["--exclude-path-regex", pattern]
    started = time.time()
    # schemathesis keeps a cache in its working folder: keep it with the run's output.
    # Our hooks (benchmarks/schemathesis_hooks.py): DoH bodies are sent as raw bytes.
    hooks_env = dict(os.environ, SCHEMATHESIS_HOOKS="schemathesis_hooks",
                     PYTHONPATH=os.pathsep.join(filter(None, [str(pathlib.Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")])))
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=run_dir, env=hooks_env)
    (run_dir / "output.txt").write_text(completed.stdout)
    cases = 0
    failures = 0
    ndjson = next(run_dir.glob("*.ndjson"), None)
    if ndjson:
        for line in ndjson.read_text().splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            # Each finished scenario reports its recorded cases; count requests, not scenarios.
            for value in event.values():
                if isinstance(value, dict) and "recorder" in value:
                    cases += len(value["recorder"].get("interactions", {}))
    for line in completed.stdout.splitlines():
        if line.strip().startswith("Test cases:"):
            digits = "".join(ch if ch.isdigit() else " " for ch in line).split()
            if digits:
                cases = max(cases, int(digits[0]))
    if completed.returncode != 0:
        failures = max(1, completed.stdout.count("\n_____") or completed.stdout.count("FAILURES"))
    return {"run": name, "exit": completed.returncode, "cases": cases, "seconds": round(time.time() - started, 1),
            "failures": failures}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build/debug/openmtd"))
    parser.add_argument("--seconds-per-run", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/out/fuzz-api"))
    args = parser.parse_args()
    if subprocess.run([sys.executable, "-c", "import schemathesis"], capture_output=True).returncode != 0:
        raise SystemExit("schemathesis is missing: python3 -m pip install schemathesis")
    binary = pathlib.Path(args.binary)
    if not binary.exists():
        raise SystemExit(f"{binary} does not exist: run `swift build` first or pass --binary")
    out = pathlib.Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    owner_password = secrets.token_urlsafe(18)
    uem_password = secrets.token_urlsafe(18)
    server = Server(binary, out, owner_password, uem_password)
    results = []
    try:
        tokens, _ = credentials(server.base, owner_password)
        admin_doc = server.base + "/api/v1/openapi.json"
        logout = r"^/api/v1/auth/logout$"
        runs = [
            ("agent", admin_doc, "Bearer " + tokens["device"], r"^/agent/", ()),
            ("admin-read-only", admin_doc, "Bearer " + tokens["read-only"], r"^/api/", (logout,)),
            ("admin-analyst", admin_doc, "Bearer " + tokens["analyst"], r"^/api/", (logout,)),
            ("admin-owner", admin_doc, "Bearer " + tokens["owner"], r"^/(api|healthz|metrics)", (logout,)),
            ("anonymous", admin_doc, None, None, ()),
        ]
        runs = [run + ((),) for run in runs]
        # The built-in UEM with its first admin (every category, Edit) and the root group's API key,
        # which the first start writes to the first-start secrets file.
        tenant = re.search(r"^uem_tenant_code: ([0-9A-Fa-f]+)$", (out / "data" / "first-start-secrets.txt").read_text(), re.M)
        if tenant is None:
            raise SystemExit(f"no uem_tenant_code in {out / 'data' / 'first-start-secrets.txt'}")
        SECRETS.append(tenant.group(1))
        # The Mobile Risk API's REST with an access token, and the token endpoint with the key. The
        # event stream never ends, so it is left to the tests (MobileRiskAPITests).
        mra_doc = server.base + "/mra/openapi.json"
        runs.append(("mobile-risk", mra_doc, "Bearer " + tokens["mra"], r"^/mra/api/", (), ()))
        runs.append(("oauth2-token", mra_doc, "Bearer " + tokens["application-key"], r"^/oauth2/", (), ()))
        runs.append(("builtin-uem", server.base + "/API/openapi.json", None, r"^/API/", (),
                     ("--auth", f"uemadmin:{uem_password}", "--header", f"aw-tenant-code: {tenant.group(1)}")))
        for name, location, header, include, exclude, extra in runs:
            result = schemathesis(name, location, server.base, header and f"Authorization: {header}", out,
                                  args.seconds_per_run, args.seed, include, exclude, extra)
            result["serverAlive"] = server.alive()
            results.append(result)
            print(f"{name}: {result['cases']} cases in {result['seconds']} s, exit {result['exit']}, "
                  f"server {'alive' if result['serverAlive'] else 'DEAD'}", flush=True)
            if not result["serverAlive"]:
                break
    finally:
        server.stop()
    (out / "summary.json").write_text(json.dumps(results, indent=2))
    log = (out / "server.log").read_text(errors="replace")
    crashed = "Fatal error" in log or any(not r["serverAlive"] for r in results)
    # Secret hygiene: no password, token, enrollment code or tenant code this run made may be in the log.
    leaked = [secret[:6] + "…" for secret in SECRETS + [owner_password, uem_password] if secret and secret in log]
    if leaked:
        print(f"secrets found in {out / 'server.log'}: {leaked}", file=sys.stderr)
    failed = [r["run"] for r in results if r["exit"] != 0]
    if crashed:
        print(f"the server crashed; see {out / 'server.log'}", file=sys.stderr)
    if failed:
        for name in failed:
            print(f"--- {name} (full output in {out / name / 'output.txt'})", file=sys.stderr)
            print("\n".join((out / name / "output.txt").read_text().splitlines()[-60:]), file=sys.stderr)
    print(f"secret hygiene: {len(SECRETS) + 2} secrets searched for in the server log, {len(leaked)} found")
    return 1 if crashed or failed or leaked else 0


if __name__ == "__main__":
    sys.exit(main())
