# Directory document unit tests.
