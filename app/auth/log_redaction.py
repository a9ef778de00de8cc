"""Keeping secrets that clients put in URLs out of the server's log.

Websockets are opened with `?ticket=` (single use, 30 s), and an old client may still send
`?token=`; the server's access and connection log lines print the path with its query string.
This filter, on every log handler, replaces those values before a line is written."""

import logging
import re
from urllib.parse import unquote_plus

SECRET_NAMES = frozenset({"ticket", "token", "access_token", "password"})
_QUERY_PARAMETER = re.compile(r"([?&;])([^=&;\s\"'?]+)=([^&;\s\"']*)")
REDACTED = "[redacted]"


def _redact_parameter(match: re.Match[str]) -> str:
    # Names are compared decoded, as the application reads them (`tick%65t` is `ticket`).
    if unquote_plus(match[2]).strip().lower() in SECRET_NAMES:
        return f"{match[1]}{match[2]}={REDACTED}"
    return match[0]


def redact(text: str) -> str:
    return _QUERY_PARAMETER.sub(_redact_parameter, text)


class RedactUrlSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True
