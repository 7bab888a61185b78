# The project's own documentation.
EXTRA_DIST += doc/README.md
