# Fuzz harnesses for cells and CERTS.
