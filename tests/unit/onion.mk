# Onion engine unit tests: cells, crypto KATs, link, circuits.
