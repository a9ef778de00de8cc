"""Who is calling: passwords, access tokens and the request's actor."""
