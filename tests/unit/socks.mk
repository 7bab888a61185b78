# SOCKS codec and address unit tests.
