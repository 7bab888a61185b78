# Shared bats support.
EXTRA_DIST += tests/bats/helpers.bash tests/bats/in-netns
