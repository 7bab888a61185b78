# Shared test support.
