# Fuzz harnesses for the SOCKS codec.
