# libonion: the Tor client engine (no SOCKS here).
