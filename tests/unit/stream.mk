# relay messages, flow control, streams (H8).
