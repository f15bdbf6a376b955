#!/bin/sh
# A hook that must never run: it leaves a marker where the test looks.
touch HOOK_RAN-post_gen_project-sh
[ -n "$MESHFORGE_TEST_HOOK_MARKER" ] && echo post_gen_project.sh > "$MESHFORGE_TEST_HOOK_MARKER"
exit 0
