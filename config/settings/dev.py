"""Settings for `make run` on a workstation: the base settings, DEBUG off unless MESHFORGE_DEBUG says
otherwise, static files served by WhiteNoise from the collected folder."""

from config.settings.base import *  # noqa: F403
