# Shared bats support.
