# libonion: directory documents (netdoc) and their checks.
