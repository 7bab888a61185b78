# bats tests of the clients.
