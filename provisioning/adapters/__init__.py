"""Tech adapters built into Meshforge, mounted under /tech-adapters/<name>/ and called over HTTP like any other."""
