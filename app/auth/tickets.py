"""Websocket tickets: a random single-use secret that stands in for the access token in
`/ws?ticket=…`, so no long-lived secret is ever in a URL (URLs end up in access logs, proxies'
logs and browser tooling). Only the ticket's hash is stored; 256 random bits need no slow hash."""

import hashlib
import secrets

TICKET_TTL_SECONDS = 30
MAX_TICKET_LENGTH = 64  # token_urlsafe(32) is 43 characters; anything longer is not ours


def new_ticket() -> str:
    return secrets.token_urlsafe(32)


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()
