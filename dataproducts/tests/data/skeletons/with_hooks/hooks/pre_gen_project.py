"""A hook that must never run: it leaves a marker where the test looks."""

import os
from pathlib import Path

Path("HOOK_RAN-pre_gen_project").write_text("pre_gen_project")
if os.environ.get("MESHFORGE_TEST_HOOK_MARKER"):
    Path(os.environ["MESHFORGE_TEST_HOOK_MARKER"]).write_text("pre_gen_project")
