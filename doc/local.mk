# The project's own documentation.
EXTRA_DIST += doc/README.md doc/architecture.md doc/differences.md
