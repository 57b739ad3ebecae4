"""Hooks for the API fuzzer (SCHEMATHESIS_HOOKS=schemathesis_hooks, run from benchmarks/).

DNS-over-HTTPS bodies are raw DNS messages (`application/dns-message`): they are generated and sent
as bytes, like `application/octet-stream`.
"""
import schemathesis

schemathesis.serializer.alias("application/dns-message", "application/octet-stream")
