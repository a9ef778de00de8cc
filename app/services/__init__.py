"""Application services: they take the session as a keyword argument and never commit."""
