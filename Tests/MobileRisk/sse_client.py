#!/usr/bin/env python3
"""An independent Server-Sent Events client for the Mobile Risk API tests, built on sseclient-py
(the parser many Lookout connectors use) and urllib3.

Modes (arguments: MODE URL TOKEN [options]):
  collect  read frames until --events N events arrived, a frame of type --until arrived, or
           --seconds passed; print one JSON line per frame: {"event", "id", "data", "at"}
  stall    connect with a tiny receive buffer, read nothing for --seconds, then drain; print
           {"bytes": n, "closed_by_server": bool}
"""
import argparse
import json
import socket
import sys
import time
import urllib.parse

import sseclient
import urllib3


def collect(args):
    http = urllib3.PoolManager()
    response = http.request("GET", args.url, headers={"Authorization": f"Bearer {args.token}", "Accept": "text/event-stream",
                                                         "Cache-Control": "no-cache"},
                            preload_content=False, timeout=urllib3.Timeout(connect=5, read=args.seconds + 5))
    print(json.dumps({"status": response.status, "content_type": response.headers.get("Content-Type"),
                      "cache_control": response.headers.get("Cache-Control"),
                      "accel": response.headers.get("X-Accel-Buffering")}), flush=True)
    if response.status != 200:
        print(json.dumps({"body": response.read().decode(errors="replace")}), flush=True)
        return 0
    deadline = time.time() + args.seconds
    received = 0
    client = sseclient.SSEClient(response)
    try:
        for event in client.events():
            print(json.dumps({"event": event.event, "id": event.id, "data": event.data, "retry": event.retry, "at": time.time()}), flush=True)
            if event.event == "events":
                received += len(json.loads(event.data)["events"])
            if args.events and received >= args.events:
                break
            if args.until and event.event == args.until:
                break
            if time.time() > deadline:
                break
    except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError) as error:
        print(json.dumps({"ended": str(error)}), flush=True)
    print(json.dumps({"closed": True}), flush=True)
    response.release_conn()
    return 0


def stall(args):
    url = urllib.parse.urlsplit(args.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    path = url.path + ("?" + url.query if url.query else "")
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {url.hostname}\r\nAuthorization: Bearer {args.token}\r\nAccept: text/event-stream\r\n\r\n".encode())
    time.sleep(args.seconds)
    total, closed = 0, False
    sock.settimeout(10)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            total += len(chunk)
    except socket.timeout:
        closed = False
    except ConnectionResetError:
        closed = True
    print(json.dumps({"bytes": total, "closed_by_server": closed}), flush=True)
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["collect", "stall"])
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--until", default="")
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    return collect(args) if args.mode == "collect" else stall(args)


if __name__ == "__main__":
    sys.exit(main())
