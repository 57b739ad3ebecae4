#!/usr/bin/env python3
"""A real SMTP server for OpenMTD's e-mail tests (aiosmtpd): STARTTLS with the given certificate,
AUTH PLAIN/LOGIN with one account, required before MAIL. Prints "READY <port>" once listening, then
one JSON line per accepted message: from, to, the subject and text as a mail client decodes them, the headers, the raw data, whether TLS was on, whether the client authenticated.
--fail-first N answers the first N DATA commands with a 451 (a relay that is briefly unwell)."""
import argparse
import email
import email.policy
import json
import socket
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sink:
    def __init__(self, fail_first):
        self.fail_first = fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.fail_first > 0:
            self.fail_first -= 1
            return "451 4.3.0 try again later"
        # Python's own e-mail parser reads the message, so the test checks what a mail client shows.
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        record = {
            "subject": str(parsed["Subject"]),
            "text": parsed.get_content() if parsed.get_content_type() == "text/plain" else None,
            "headers": {key: str(value) for key, value in parsed.items()},
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
        }
        print(json.dumps(record), flush=True)
        return "250 2.0.0 queued"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()

    def authenticate(server, session, envelope, mechanism, auth_data):
        good = isinstance(auth_data, LoginPassword) and auth_data.login == args.user.encode() and auth_data.password == args.password.encode()
        return AuthResult(success=good, handled=False)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    port = free_port()
    controller = Controller(
        Sink(args.fail_first), hostname="127.0.0.1", port=port, server_hostname="localhost",
        tls_context=context, require_starttls=True, authenticator=authenticate, auth_required=True, auth_require_tls=True,
    )
    controller.start()
    print(f"READY {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
