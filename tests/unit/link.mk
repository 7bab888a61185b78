# Link/channel/circuit unit tests.
