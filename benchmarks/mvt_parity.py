#!/usr/bin/env python3
"""Parity and speed of `openmtd intel match` against MVT's own domain matcher, in one run.

Both load the same STIX2 bundles (the ones OpenMTD ships) and look up the same host list. The host
list mixes the indicator domains themselves, subdomains of them, and the 20,000 OpenDNS benign
domains. MVT is driven through its public API: Indicators.load_indicators_files and check_domain.

Usage: benchmarks/mvt-parity.sh (creates the venv with mvt and builds openmtd in release mode).
"""
import json
import logging
import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
STIX_DIR = ROOT / "Sources/MTDIntel/Data/stix2"
BENIGN = [ROOT / "Tests/MTDDetectionTests/Fixtures/opendns-top-domains.txt", ROOT / "Tests/MTDDetectionTests/Fixtures/opendns-random-domains.txt"]
OUT = ROOT / "benchmarks/out"


def build_host_list(stix_files):
    domains = []
    pattern = re.compile(r"\[domain-name:value\s*=\s*'([^']+)'\]")
    for path in stix_files:
        for obj in json.loads(path.read_text())["objects"]:
            match = pattern.match(obj.get("pattern", ""))
            if match:
                domains.append(match.group(1).lower())
    hosts = []
    for domain in domains:
        hosts += [domain, "www." + domain, "a.b." + domain, "not" + domain]
    for path in BENIGN:
        hosts += [line.strip().lower() for line in path.read_text().splitlines() if line.strip()]
    seen, unique = set(), []
    for host in hosts:
        if host not in seen:
            seen.add(host)
            unique.append(host)
    return unique


def run_mvt(stix_files, hosts):
    os.environ["MVT_NETWORK_ACCESS_ALLOWED"] = "False"
    from mvt.common.config import settings
    settings.NETWORK_ACCESS_ALLOWED = False
    from mvt.common.indicators import Indicators
    quiet = logging.getLogger("mvt-parity")
    quiet.setLevel(logging.CRITICAL)
    start = time.perf_counter()
    indicators = Indicators(log=quiet)
    indicators.load_indicators_files([str(p) for p in stix_files], load_default=False)
    load_seconds = time.perf_counter() - start
    matched = set()
    start = time.perf_counter()
    for host in hosts:
        if indicators.check_domain(host):
            matched.add(host)
    match_seconds = time.perf_counter() - start
    return matched, load_seconds, match_seconds


def run_openmtd(binary, hosts_file, extra=()):
    result = subprocess.run([binary, "intel", "match", "--stix", str(STIX_DIR), "--hosts", str(hosts_file), *extra],
                            capture_output=True, text=True, check=True)
    figures = json.loads(result.stderr.strip().splitlines()[-1])
    return set(result.stdout.split()), figures


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build/release/openmtd")
    stix_files = sorted(STIX_DIR.glob("*.stix2"))
    hosts = build_host_list(stix_files)
    OUT.mkdir(parents=True, exist_ok=True)
    hosts_file = OUT / "hosts.txt"
    hosts_file.write_text("\n".join(hosts) + "\n")

    mvt_matched, mvt_load, mvt_match = run_mvt(stix_files, hosts)
    strict, strict_figures = run_openmtd(binary, hosts_file)
    ours, figures = run_openmtd(binary, hosts_file, ["--mvt-compatible"])

    missed = sorted(mvt_matched - ours)
    extra = sorted(ours - mvt_matched)
    mvt_rate = len(hosts) / mvt_match
    our_rate = figures["hosts"] / figures["matchSeconds"]
    strict_rate = strict_figures["hosts"] / strict_figures["matchSeconds"]
    report = {
        "bundles": len(stix_files), "hosts": len(hosts),
        "mvt": {"matched": len(mvt_matched), "loadSeconds": round(mvt_load, 3), "matchSeconds": round(mvt_match, 3), "lookupsPerSecond": round(mvt_rate)},
        "openmtd": {"matched": len(strict), "loadSeconds": round(strict_figures["loadSeconds"], 3), "matchSeconds": round(strict_figures["matchSeconds"], 4),
                    "lookupsPerSecond": round(strict_rate), "speedup": round(strict_rate / mvt_rate, 1),
                    "mvtFindsThatStrictMisses": sorted(mvt_matched - strict)},
        "openmtdMvtCompatible": {"matched": len(ours), "loadSeconds": round(figures["loadSeconds"], 3), "matchSeconds": round(figures["matchSeconds"], 4),
                                 "lookupsPerSecond": round(our_rate), "speedup": round(our_rate / mvt_rate, 1)},
        "missedByOpenMTD": len(missed), "extraByOpenMTD": len(extra), "extraSample": extra[:10],
    }
    print(json.dumps(report, indent=2))
    (OUT / "mvt-parity.json").write_text(json.dumps(report, indent=2) + "\n")
    if missed:
        print("OpenMTD missed hosts that MVT found:", missed[:20], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
