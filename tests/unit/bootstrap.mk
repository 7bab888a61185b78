# onion bootstrap: directory manager, cache, facade (H9).
