"""Settings for `make run` on a workstation: the base settings, DEBUG off unless MESHFORGE_DEBUG says
otherwise, static files served by WhiteNoise from the collected folder."""

from config.settings.base import *  # noqa: F403

# `make run` on a workstation: the banner says how to sign in to the seeded demo.
DEMO_PASSWORD_IN_BANNER = True
