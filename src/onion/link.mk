# libonion: TLS link, channel, circuits, directory client.
