# onion circuit manager, guards, streams (H10).
