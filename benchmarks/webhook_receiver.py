"""A webhook receiver for the benchmarks, in a process of its own (so the load generator's threads
do not slow it: one GIL each), answering HTTP/1.1 with keep-alive as chat and ticketing services do.

    receiver = WebhookReceiver()            # starts it; receiver.url is where to point a rule
    receiver.collect()                      # drains what arrived into receiver.keys and .latencies
receiver.keys counts each X-OpenMTD-Idempotency-Key; receiver.latencies holds, per call, its arrival
minus the created_time of the event in its body (ms), for bodies that carry one.
"""
import http.server
import json
import multiprocessing
import queue
import time
from datetime import datetime


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        arrived = time.time()
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        created = (body.get("event") or {}).get("created_time")
        latency = (arrived - datetime.fromisoformat(created).timestamp()) * 1000 if created else None
        self.server.records.put((self.headers["X-OpenMTD-Idempotency-Key"], latency))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _serve(port_queue, records):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.records = records
    port_queue.put(server.server_address[1])
    server.serve_forever()


class WebhookReceiver:
    def __init__(self):
        self._records, ports = multiprocessing.Queue(), multiprocessing.Queue()
        multiprocessing.Process(target=_serve, args=(ports, self._records), daemon=True).start()
        self.url = f"http://127.0.0.1:{ports.get(timeout=30)}/hook"
        self.keys, self.latencies = {}, []

    def collect(self):
        while True:
            try:
                key, latency = self._records.get(timeout=0.1)
            except queue.Empty:
                return
            self.keys[key] = self.keys.get(key, 0) + 1
            if latency is not None:
                self.latencies.append(latency)
