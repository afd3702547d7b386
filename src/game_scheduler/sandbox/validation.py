"""Message, embed and component limits, checked as Discord checks them (400 code 50035)."""

from __future__ import annotations

from typing import Any

from game_scheduler.sandbox.errors import DiscordError, invalid_form_body

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_COMPONENTS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80

ACTION_ROW = 1
BUTTON = 2
LINK_STYLE = 5
PREMIUM_STYLE = 6

Errors = dict[str, Any]


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _too_long(limit: int) -> Errors:
    return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _required() -> Errors:
    return _error("BASE_TYPE_REQUIRED", "This field is required")


def _check_text(errors: Errors, key: str, value: Any, limit: int, *, required: bool) -> int:
    """Record an error for a too-long or missing string and return its length."""
    if value is None or value == "":
        if required:
            errors[key] = _required()
        return 0
    text = str(value)
    if len(text) > limit:
        errors[key] = _too_long(limit)
    return len(text)


def _embed_errors(embed: dict[str, Any]) -> tuple[Errors, int]:
    """Return one embed's errors and the characters it counts towards the 6,000 total."""
    errors: Errors = {}
    total = _check_text(errors, "title", embed.get("title"), EMBED_TITLE_MAX, required=False)
    total += _check_text(
        errors, "description", embed.get("description"), EMBED_DESCRIPTION_MAX, required=False
    )
    footer = embed.get("footer") or {}
    footer_errors: Errors = {}
    total += _check_text(footer_errors, "text", footer.get("text"), FOOTER_TEXT_MAX, required=False)
    if footer_errors:
        errors["footer"] = footer_errors
    author = embed.get("author") or {}
    author_errors: Errors = {}
    total += _check_text(author_errors, "name", author.get("name"), AUTHOR_NAME_MAX, required=False)
    if author_errors:
        errors["author"] = author_errors
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        errors["fields"] = _too_long(EMBED_FIELDS_MAX)
    field_errors: Errors = {}
    for index, field in enumerate(fields):
        one: Errors = {}
        total += _check_text(one, "name", field.get("name"), FIELD_NAME_MAX, required=True)
        total += _check_text(one, "value", field.get("value"), FIELD_VALUE_MAX, required=True)
        if one:
            field_errors[str(index)] = one
    if field_errors:
        errors.setdefault("fields", {}).update(field_errors)
    return errors, total


def _embeds_errors(embeds: list[dict[str, Any]]) -> Errors:
    if len(embeds) > EMBEDS_MAX:
        return _too_long(EMBEDS_MAX)
    errors: Errors = {}
    total = 0
    for index, embed in enumerate(embeds):
        one, size = _embed_errors(embed)
        total += size
        if one:
            errors[str(index)] = one
    if not errors and total > EMBED_TOTAL_MAX:
        return _error(
            "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
        )
    return errors


def _button_errors(button: dict[str, Any]) -> Errors:
    errors: Errors = {}
    _check_text(errors, "label", button.get("label"), BUTTON_LABEL_MAX, required=False)
    style = button.get("style")
    if style == LINK_STYLE:
        if not button.get("url"):
            errors["url"] = _required()
    elif style != PREMIUM_STYLE:
        _check_text(errors, "custom_id", button.get("custom_id"), CUSTOM_ID_MAX, required=True)
    return errors


def _row_errors(row: dict[str, Any]) -> Errors:
    if row.get("type") != ACTION_ROW:
        return {"type": _error("UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).')}
    children = row.get("components") or []
    if not 1 <= len(children) <= ROW_COMPONENTS_MAX:
        message = f"Must be between 1 and {ROW_COMPONENTS_MAX} in length."
        return {"components": _error("BASE_TYPE_BAD_LENGTH", message)}
    errors: Errors = {}
    for index, child in enumerate(children):
        # Select menus and other kinds have their own rules; only custom_id is shared.
        if child.get("type") == BUTTON:
            one = _button_errors(child)
        else:
            one = {}
            _check_text(one, "custom_id", child.get("custom_id"), CUSTOM_ID_MAX, required=False)
        if one:
            errors[str(index)] = one
    return {"components": errors} if errors else {}


def _components_errors(rows: list[dict[str, Any]]) -> Errors:
    if len(rows) > ACTION_ROWS_MAX:
        return _too_long(ACTION_ROWS_MAX)
    errors: Errors = {}
    for index, row in enumerate(rows):
        one = _row_errors(row)
        if one:
            errors[str(index)] = one
    return errors


def validate_message_body(body: dict[str, Any], *, creating: bool) -> None:
    """Raise Discord's 400 error if a message create or edit body breaks Discord's limits."""
    errors: Errors = {}
    content = body.get("content")
    if content is not None and len(str(content)) > CONTENT_MAX:
        errors["content"] = _too_long(CONTENT_MAX)
    embeds = body.get("embeds") or []
    if body.get("embed"):
        embeds = [body["embed"]]
    embed_errors = _embeds_errors(embeds)
    if embed_errors:
        errors["embeds"] = embed_errors
    component_errors = _components_errors(body.get("components") or [])
    if component_errors:
        errors["components"] = component_errors
    if errors:
        raise invalid_form_body(errors)
    if creating and not (content or embeds or body.get("components") or body.get("sticker_ids")):
        raise DiscordError(400, 50006)
