"""Which characters text may hold: a pure module shared by the request guard and the schemas.

C0 control characters (U+0000–U+001F) have no place in anything a person types. PostgreSQL
refuses U+0000 outright (the request then failed with a 500 whose logged error held every
parameter), and the others break log lines, CSV exports and screens. Free text (circumstances,
reasons, notes) may hold tab and line breaks (CR as well as LF: Windows clients send CRLF); a
one-line field (a name, a phone number, a code) may hold none of them. Lone UTF-16 surrogates
(JSON's "\\ud800") cannot be stored as UTF-8 and are refused too.
"""

from typing import Any

FREE_TEXT_ALLOWED = frozenset("\t\n\r")


def bad_character(text: str, *, free_text: bool) -> str | None:
    """The first character `text` may not hold, or None."""
    allowed = FREE_TEXT_ALLOWED if free_text else frozenset()
    for char in text:
        code = ord(char)
        if (code < 0x20 and char not in allowed) or 0xD800 <= code <= 0xDFFF:
            return char
    return None


def describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def problem_message(char: str, *, free_text: bool) -> str:
    if 0xD800 <= ord(char) <= 0xDFFF:
        return f"contains {describe(char)}, which is not a character (a lone surrogate)"
    if free_text:
        return (
            f"contains the control character {describe(char)}; only tab and line breaks are allowed"
        )
    return f"contains the control character {describe(char)}; this field is a single line"


def find_bad_strings(value: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str, str]]:
    """Every (field path, message) in a parsed JSON value whose keys or strings hold a character
    no text may hold (free-text rules: the schemas apply the stricter one-line rule)."""
    found: list[tuple[str, str]] = []
    if isinstance(value, str):
        char = bad_character(value, free_text=True)
        if char is not None:
            found.append((field_path(path), problem_message(char, free_text=True)))
    elif isinstance(value, dict):
        for key, item in value.items():
            char = bad_character(str(key), free_text=False)
            if char is not None:
                found.append(
                    (field_path(path) + " (a key)", problem_message(char, free_text=False))
                )
                continue
            found.extend(find_bad_strings(item, (*path, str(key))))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(find_bad_strings(item, (*path, index)))
    return found


def field_path(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path) or "body"
