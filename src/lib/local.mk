# libtorkit: the shared core (codec, addresses, client session).
