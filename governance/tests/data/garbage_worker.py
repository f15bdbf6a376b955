"""A stand-in for the Rego worker that answers something that is not JSON (tests of the rego engine)."""

import sys

sys.stdin.buffer.read()
print("this is not JSON", flush=True)
