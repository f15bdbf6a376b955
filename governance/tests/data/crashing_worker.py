"""A stand-in for the Rego worker that dies before answering (tests of the rego engine)."""

import os
import sys

sys.stdin.buffer.read()
sys.stderr.write("worker exploded\n")
sys.stderr.flush()
os.abort()
