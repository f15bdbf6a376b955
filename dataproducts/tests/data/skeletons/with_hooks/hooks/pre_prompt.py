"""A hook that must never run: it leaves a marker where the test looks."""

import os
from pathlib import Path

Path("HOOK_RAN-pre_prompt").write_text("pre_prompt")
if os.environ.get("MESHFORGE_TEST_HOOK_MARKER"):
    Path(os.environ["MESHFORGE_TEST_HOOK_MARKER"]).write_text("pre_prompt")
