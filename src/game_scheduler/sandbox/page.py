"""GET /: a self-contained HTML view of channels, DMs, embeds and clickable buttons.

The page stays light however much the sandbox holds (a load test leaves hundreds of
channels and a thousand DMs): it shows the most recently active conversations, each with
its latest messages, and a list of the others to open one at a time (`?view=dm:<user>`,
`?view=channel:<id>`, filtered with `?q=`). Its refresh every 2 s sends the `ETag` it has
and gets `304 Not Modified`, and no body, while nothing changed.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from game_scheduler.sandbox.http_layer import STATE_KEY
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import Channel, SandboxState

PAGE_CONVERSATIONS = 8  # conversations shown at once without ?view
MESSAGES_SHOWN = 25  # latest messages shown per conversation
NAV_LIMIT = 40  # conversations listed for opening; ?q= finds the others

routes = web.RouteTableDef()

# Discord's button styles: primary, secondary, success, danger, link.
_BUTTON_CLASS = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}
_DEFAULT_EMBED_COLOUR = 0x202225


def _text(value: Any) -> str:
    return escape(str(value)) if value not in (None, "") else ""


_TIMESTAMP = re.compile(r"&lt;t:(-?\d{1,13})(?::([tTdDfFR]))?&gt;")
_MENTION = re.compile(r"&lt;@!?(\d{1,20})&gt;")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _relative(moment: datetime, now: datetime) -> str:
    seconds = int((moment - now).total_seconds())
    span = abs(seconds)
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if span >= size or unit == "second":
            count = span // size
            text = f"{count} {unit}" + ("" if count == 1 else "s")
            return f"in {text}" if seconds >= 0 else f"{text} ago"
    raise AssertionError("unreachable")


def _timestamp(match: re.Match[str]) -> str:
    try:
        moment = datetime.fromtimestamp(int(match.group(1)), UTC)
    except (OverflowError, OSError, ValueError):
        return match.group(0)
    style = match.group(2) or "f"
    shown = (
        _relative(moment, datetime.now(UTC))
        if style == "R"
        else moment.strftime("%A %d %B %Y %H:%M UTC" if style == "F" else "%d %B %Y %H:%M UTC")
    )
    return f'<span class="markup" title="{match.group(0)}">{shown}</span>'


def _markup(value: Any) -> str:
    """Escaped text with the Discord markup a client renders: timestamps, mentions, bold."""
    text = _text(value)
    text = _TIMESTAMP.sub(_timestamp, text)
    text = _MENTION.sub(r'<span class="mention">@user\1</span>', text)
    return _BOLD.sub(r"<b>\1</b>", text)


def _render_embed(embed: JSON) -> str:
    colour = embed.get("color")
    colour_hex = f"#{int(colour if colour is not None else _DEFAULT_EMBED_COLOUR):06x}"
    parts = [f'<div class="embed" style="border-left-color:{colour_hex}">']
    author = embed.get("author") or {}
    if author.get("name"):
        parts.append(f'<div class="embed-author">{_text(author["name"])}</div>')
    if embed.get("title"):
        parts.append(f'<div class="embed-title">{_text(embed["title"])}</div>')
    if embed.get("description"):
        parts.append(f'<div class="embed-description">{_markup(embed["description"])}</div>')
    fields = embed.get("fields") or []
    if fields:
        parts.append('<div class="embed-fields">')
        for field in fields:
            inline = " inline" if field.get("inline") else ""
            parts.append(
                f'<div class="embed-field{inline}"><div class="field-name">'
                f'{_text(field.get("name"))}</div><div class="field-value">'
                f"{_markup(field.get('value'))}</div></div>"
            )
        parts.append("</div>")
    footer = embed.get("footer") or {}
    footer_bits = [_text(footer.get("text")), _text(embed.get("timestamp"))]
    footer_text = " • ".join(bit for bit in footer_bits if bit)
    if footer_text:
        parts.append(f'<div class="embed-footer">{footer_text}</div>')
    parts.append("</div>")
    return "".join(parts)


def _render_component(message_id: str, component: JSON) -> str:
    label = _text(component.get("label")) or _text((component.get("emoji") or {}).get("name"))
    style = _BUTTON_CLASS.get(int(component.get("style") or 2), "secondary")
    disabled = " disabled" if component.get("disabled") else ""
    if component.get("type") != 2:
        return f'<span class="other-component">component type {_text(component.get("type"))}</span>'
    if style == "link":
        return f'<a class="button link" href="{_text(component.get("url"))}">{label}</a>'
    return (
        f'<button class="button {style}" data-message-id="{_text(message_id)}" '
        f'data-custom-id="{_text(component.get("custom_id"))}"{disabled}>{label}</button>'
    )


def _render_message(message: JSON) -> str:
    author = message.get("author") or {}
    edits = int(message.get("edits") or 0)
    edited = f' <span class="edited">(edited {edits} times)</span>' if edits else ""
    parts = [
        f'<div class="message" id="m{_text(message["id"])}">',
        f'<div class="meta"><b>{_text(author.get("username"))}</b> '
        f'<span class="ts">{_text(message.get("timestamp"))}</span> '
        f'<span class="mid">id {_text(message["id"])}</span>{edited}</div>',
    ]
    if message.get("content"):
        parts.append(f'<div class="content">{_markup(message["content"])}</div>')
    parts.extend(_render_embed(embed) for embed in message.get("embeds") or [])
    for row in message.get("components") or []:
        buttons = "".join(_render_component(message["id"], c) for c in row.get("components") or [])
        parts.append(f'<div class="row">{buttons}</div>')
    parts.append("</div>")
    return "".join(parts)


def _render_section(title: str, messages: list[JSON], total: int | None = None) -> str:
    body = "".join(_render_message(m) for m in messages) or '<p class="empty">no messages</p>'
    shown = ""
    if total is not None and total > len(messages):
        shown = f' <span class="edited">(latest {len(messages)} of {total})</span>'
    return f"<section><h2>{_text(title)}{shown}</h2>{body}</section>"


def _key(channel: Channel) -> str:
    if channel.recipient_id is not None:
        return f"dm:{channel.recipient_id}"
    return f"channel:{channel.id}"


def _title(channel: Channel) -> str:
    if channel.recipient_id is not None:
        return f"DM with user {channel.recipient_id}"
    return f"#channel-{channel.id}"


def _by_activity(state: SandboxState) -> list[Channel]:
    """Conversations with messages, the one with the newest message first."""
    active = [c for c in state.channels.values() if c.messages]
    # Snowflakes grow with time: the largest message id is the latest message.
    return sorted(active, key=lambda c: max(c.messages), reverse=True)


def fingerprint(state: SandboxState, view: str, query: str) -> str:
    """An ETag for the page: changes whenever a message, edit or interaction does."""
    edits = sum(m.edits for c in state.channels.values() for m in c.messages.values())
    latest = max(state.message_channel, default=0)
    recent = [r.snapshot() for r in list(state.interactions.values())[-20:]]
    events = state.scheduled_events.snapshot()
    text = repr(
        (len(state.message_channel), latest, edits, len(state.interactions), recent, events)
    )
    return '"' + hashlib.sha256(f"{text}|{view}|{query}".encode()).hexdigest()[:32] + '"'


def _render_nav(conversations: list[Channel], view: str, query: str) -> str:
    matching = [c for c in conversations if query in _key(c)] if query else conversations
    links = []
    for channel in matching[:NAV_LIMIT]:
        current = ' class="current"' if _key(channel) == view else ""
        href = "?" + urlencode({"view": _key(channel)})
        links.append(
            f'<a{current} href="{_text(href)}">{_text(_title(channel))}'
            f" ({len(channel.messages)})</a>"
        )
    more = len(matching) - len(links)
    hidden = f'<span class="edited">and {more} more: filter by id</span>' if more > 0 else ""
    return (
        f'<nav><b>{len(conversations)} conversations</b> <a href="/">latest</a> '
        f'<form method="get"><input name="q" value="{_text(query)}" placeholder="id contains">'
        f"</form> {' '.join(links)} {hidden}</nav>"
    )


def render_view(state: SandboxState, view: str = "", query: str = "") -> str:
    """The refreshing part of the page: the list of conversations and the ones shown."""
    conversations = _by_activity(state)
    if view:
        shown = [c for c in state.channels.values() if _key(c) == view]
    else:
        shown = conversations[:PAGE_CONVERSATIONS]
    sections = [
        _render_section(
            _title(c),
            [m.snapshot() for m in list(c.messages.values())[-MESSAGES_SHOWN:]],
            len(c.messages),
        )
        for c in shown
    ]
    if not sections:
        sections.append('<p class="empty">Nothing sent yet. Point the bot here and post.</p>')
    interactions = {str(i): r.snapshot() for i, r in list(state.interactions.items())[-20:]}
    sections.append(_render_interactions(interactions))
    sections.append(_render_scheduled_events(state.scheduled_events.snapshot()))
    return _render_nav(conversations, view, query) + "".join(sections)


def _render_interactions(interactions: dict[str, JSON]) -> str:
    if not interactions:
        return ""
    items = []
    for record in list(interactions.values())[-20:]:
        answer = record.get("content") or ", ".join(
            str(f.get("content")) for f in record.get("followups") or []
        )
        visibility = "ephemeral" if record.get("ephemeral") else "public"
        items.append(
            f"<li>user {_text(record['user_id'])} pressed <code>{_text(record['custom_id'])}"
            f"</code> → type {_text(record.get('type'))} ({visibility}): {_text(answer)}</li>"
        )
    return f"<section><h2>Interactions</h2><ul>{''.join(items)}</ul></section>"


_EVENT_STATUS = {1: "scheduled", 2: "active", 3: "completed", 4: "cancelled"}


def _render_scheduled_events(by_guild: dict[str, list[JSON]]) -> str:
    sections = []
    for guild_id, events in by_guild.items():
        items = []
        for event in events:
            location = (event.get("entity_metadata") or {}).get("location")
            status = _EVENT_STATUS.get(int(event.get("status") or 0), "?")
            items.append(
                f'<li class="scheduled-event"><b>{_text(event.get("name"))}</b>'
                f" ({status}) {_text(event.get('scheduled_start_time'))} → "
                f"{_text(event.get('scheduled_end_time'))} at {_text(location)}"
                f'<div class="content">{_markup(event.get("description"))}</div></li>'
            )
        sections.append(
            f"<section><h2>Events of server {_text(guild_id)}</h2><ul>{''.join(items)}</ul>"
            "</section>"
        )
    return "".join(sections)


def render_content(snapshot: dict[str, Any]) -> str:
    """Render the part of the page that refreshes: channels, DMs and interactions."""
    sections = [
        _render_section(f"#channel-{channel_id}", messages)
        for channel_id, messages in snapshot["channels"].items()
    ]
    sections += [
        _render_section(f"DM with user {user_id}", messages)
        for user_id, messages in snapshot["dms"].items()
    ]
    if not sections:
        sections.append('<p class="empty">Nothing sent yet. Point the bot here and post.</p>')
    sections.append(_render_scheduled_events(snapshot.get("scheduled_events", {})))
    sections.append(_render_interactions(snapshot["interactions"]))
    return "".join(sections)


_STYLE = """
body{font-family:system-ui,sans-serif;background:#313338;color:#dbdee1;margin:0 auto;
max-width:900px;padding:1em}
h1{font-size:1.3em}h2{font-size:1.05em;color:#f2f3f5;border-bottom:1px solid #4e5058}
.warn{background:#5c3b00;padding:.4em .7em;border-radius:4px}
.message{padding:.5em 0;border-bottom:1px solid #3f4147}.meta{font-size:.85em;color:#949ba4}
.content{white-space:pre-wrap;margin:.3em 0}.edited{color:#949ba4}
.mention{background:#3c4270;color:#c9cdfb;border-radius:3px;padding:0 2px}
.markup{background:#2b2d31;border-radius:3px;padding:0 2px}
.embed{background:#2b2d31;border-left:4px solid;border-radius:4px;padding:.6em .8em;margin:.4em 0;
max-width:520px}.embed-title{font-weight:bold;color:#fff}.embed-author{font-size:.85em}
.embed-description{white-space:pre-wrap;margin:.3em 0}.embed-fields{display:flex;flex-wrap:wrap}
.embed-field{flex:1 1 100%;margin:.3em 0}.embed-field.inline{flex:1 1 30%}
.field-name{font-weight:bold;font-size:.9em}.field-value{white-space:pre-wrap}
.embed-footer{font-size:.8em;color:#b5bac1;margin-top:.4em}.row{margin:.3em 0}
.button{border:0;border-radius:3px;padding:.4em 1em;margin-right:.4em;color:#fff;cursor:pointer}
.primary{background:#5865f2}.secondary{background:#4e5058}.success{background:#248046}
.danger{background:#da373c}.link{background:#4e5058;text-decoration:none}
nav{font-size:.85em;line-height:1.8}nav a{color:#00a8fc;margin-right:.6em}
nav a.current{font-weight:bold;color:#fff}nav form{display:inline}
.button:disabled{opacity:.5;cursor:not-allowed}#toast{position:fixed;bottom:1em;right:1em;
background:#111214;padding:.6em 1em;border-radius:4px;display:none;max-width:400px}
#command-form{margin:.6em 0}.answer{white-space:pre-wrap;color:#dbdee1}
#modal{display:none;position:fixed;top:10%;left:30%;width:40%;background:#313338;padding:1em;
border-radius:6px;box-shadow:0 0 20px #000}#modal label{display:block;margin:.4em 0}
#modal input,#modal textarea{display:block;width:100%}
"""

_SCRIPT = r"""
const userInput = document.getElementById('user-id');
userInput.value = localStorage.getItem('sandboxUserId') || userInput.value;
userInput.addEventListener('change', () => localStorage.setItem('sandboxUserId', userInput.value));
const toast = document.getElementById('toast');
function say(text){toast.textContent=text;toast.style.display='block';
  setTimeout(()=>{toast.style.display='none'},5000);}
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-custom-id]');
  if (!button || button.disabled) return;
  const response = await fetch('/sandbox/click', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({message_id: button.dataset.messageId,
      custom_id: button.dataset.customId, user_id: userInput.value, wait: true})});
  const data = await response.json();
  if (!response.ok) { say('Error: ' + data.error); return; }
  const r = data.response || {};
  const followups = (r.followups || []).map(f => f.content).join(' ');
  say(data.delivered ? ('Bot answered: ' + (r.content || followups || '(nothing yet)'))
                     : 'No bot is connected to the gateway.');
  refresh();
});
// The command box: "/game create title:Raid when:friday 8pm seats:4" as the user above.
function parseCommand(text){
  const parts = text.trim().replace(/^\//, '').split(/\s+(?=[a-z][\w-]*:)/i);
  const head = (parts.shift() || '').split(/\s+/);
  const options = {};
  for (const part of parts) {
    const at = part.indexOf(':');
    options[part.slice(0, at)] = part.slice(at + 1).trim();
  }
  return {name: head[0] || '', subcommand: head[1] || null, options: options};
}
function answerText(data){
  const r = data.response || {};
  const followups = (r.followups || []).map(f => f.content).join(' ');
  return r.content || followups || '(nothing yet)';
}
const modalBox = document.getElementById('modal');
function showModal(interactionId, modal){
  const inputs = [];
  for (const row of modal.components || []) {
    const items = row.component ? [row.component] : (row.components || []);
    for (const item of items) if (item.type === 4) inputs.push(item);
  }
  modalBox.innerHTML = '';
  const title = document.createElement('h2'); title.textContent = modal.title;
  modalBox.appendChild(title);
  for (const item of inputs) {
    const label = document.createElement('label'); label.textContent = item.label || item.custom_id;
    const input = document.createElement(item.style === 2 ? 'textarea' : 'input');
    input.value = item.value || ''; input.dataset.customId = item.custom_id;
    label.appendChild(input); modalBox.appendChild(label);
  }
  const submit = document.createElement('button'); submit.textContent = 'Submit';
  submit.className = 'button primary';
  submit.addEventListener('click', async (event) => {
    event.stopPropagation();
    const values = {};
    for (const input of modalBox.querySelectorAll('[data-custom-id]')) {
      values[input.dataset.customId] = input.value;
    }
    const response = await fetch('/sandbox/modal', {method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({interaction_id: interactionId, custom_id: modal.custom_id,
        user_id: userInput.value, values: values, wait: true})});
    const data = await response.json();
    modalBox.style.display = 'none';
    say(response.ok ? 'Bot answered: ' + answerText(data) : 'Error: ' + data.error);
    refresh();
  });
  modalBox.appendChild(submit);
  modalBox.style.display = 'block';
}
document.getElementById('command-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const parsed = parseCommand(document.getElementById('command').value);
  const response = await fetch('/sandbox/command', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({...parsed, user_id: userInput.value,
      channel_id: document.getElementById('command-channel').value, wait: true})});
  const data = await response.json();
  if (!response.ok) { say('Error: ' + data.error); return; }
  if (!data.delivered) { say('No bot is connected to the gateway.'); return; }
  if (data.response && data.response.modal) {
    showModal(data.interaction_id, data.response.modal);
    return;
  }
  document.getElementById('command-answer').textContent = answerText(data);
  refresh();
});
const content = document.getElementById('content');
async function refresh(){
  const query = new URLSearchParams(location.search);
  query.set('fragment', '1');
  const response = await fetch('/?' + query, {headers: {'If-None-Match': content.dataset.etag}});
  if (response.status !== 200) return;  // 304: nothing changed
  content.dataset.etag = response.headers.get('ETag');
  content.innerHTML = await response.text();
}
setInterval(refresh, 2000);
"""


def render_page(content: str, etag: str) -> str:
    """Render the whole page: header, user picker, content and the polling script."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Discord sandbox</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Game Scheduler: Discord sandbox</h1>"
        '<p class="warn">A development tool, not Discord. Nothing here leaves this machine.</p>'
        '<label>Act as user id <input id="user-id" value="900000000000000003"></label>'
        '<form id="command-form"><label>Command '
        '<input id="command" size="60" '
        'placeholder="/game create title:Raid when:friday 8pm seats:4"></label> '
        '<label>in channel <input id="command-channel" value="900000000000000002"></label> '
        '<button class="button primary" type="submit">Send</button></form>'
        '<p id="command-answer" class="answer"></p><div id="modal"></div>'
        f'<div id="content" data-etag="{_text(etag)}">{content}</div>'
        f'<div id="toast"></div><script>{_SCRIPT}</script></body></html>'
    )


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """Serve the page, or only its refreshing part when ?fragment=1 (304 if unchanged)."""
    state = request.app[STATE_KEY]
    view, query = request.query.get("view", ""), request.query.get("q", "").strip()
    etag = fingerprint(state, view, query)
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.query.get("fragment"):
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        text = render_view(state, view, query)
        return web.Response(text=text, content_type="text/html", headers=headers)
    page = render_page(render_view(state, view, query), etag)
    return web.Response(text=page, content_type="text/html", headers=headers)
