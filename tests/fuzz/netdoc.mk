# Fuzz harnesses for directory documents.
