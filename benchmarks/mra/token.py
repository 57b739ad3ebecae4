#!/usr/bin/env python3
"""Prints a Mobile Risk API access token for a new application key (every scope), made by the
default owner: benchmarks/mra/token.py BASE_URL OWNER_PASSWORD [OWNER_EMAIL]."""
import json
import sys
import urllib.request


def call(base, path, body, token, content_type="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("Authorization", "Bearer " + token) if token else None
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


base, password = sys.argv[1], sys.argv[2]
email = sys.argv[3] if len(sys.argv) > 3 else "admin@openmtd.local"
session = call(base, "/api/v1/auth/login", {"email": email, "password": password}, None)["token"]
key = call(base, "/api/v1/application-keys", {"name": "bench", "scopes": ["events", "devices", "threats"]}, session)["key"]
print(call(base, "/oauth2/token", b"grant_type=client_credentials", key, "application/x-www-form-urlencoded")["access_token"])
