# tor-resolve, tor-ptr, tor-connect.
