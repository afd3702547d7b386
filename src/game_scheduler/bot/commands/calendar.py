"""`/calendar [rotate]`: the person's own calendar feed URL, and a new one when asked.

The URL is a secret (whoever holds it reads the person's games), so the answer is
ephemeral. `rotate:True` replaces the token: the old URL then answers 404 like any other.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from sqlalchemy.orm import Session

from game_scheduler.bot.commands.games import CommandDeps, say
from game_scheduler.calendar.links import personal_feed_url
from game_scheduler.calendar.tokens import calendar_url, rotate_calendar_token

HOW_TO_ADD = (
    "Add it as a calendar subscription: in Google Calendar *Other calendars → From URL*, "
    "in Apple Calendar *File → New Calendar Subscription*."
)


def calendar_answer(url: str, *, rotated: bool) -> str:
    """What the person reads: the URL, how to use it, and how to replace it."""
    if rotated:
        return (
            f"Your new calendar link: <{url}>\nThe old link no longer works: replace it in "
            f"your calendar app. {HOW_TO_ADD}"
        )
    return (
        f"Your calendar link, with every game you host or joined in all your servers: "
        f"<{url}>\n{HOW_TO_ADD}\nKeep it to yourself: anyone with it sees your games. "
        "`/calendar rotate:True` gives a new link and stops this one."
    )


def calendar_command(deps: CommandDeps) -> app_commands.Command[Any, Any, None]:
    """`/calendar [rotate:True]`: my feed URL, or a new one replacing it."""

    @app_commands.command(name="calendar", description="Your calendar link with all your games")
    @app_commands.describe(rotate="True: make a new link; the old one stops working")
    async def calendar(interaction: discord.Interaction[Any], rotate: bool = False) -> None:
        user_id = interaction.user.id

        def feed_url(session: Session) -> str:
            if rotate:
                return personal_feed_url(deps.public_url, rotate_calendar_token(session, user_id))
            return calendar_url(session, deps.public_url, user_id)

        url = await deps.run(feed_url)
        await say(interaction, calendar_answer(url, rotated=rotate))

    return calendar
