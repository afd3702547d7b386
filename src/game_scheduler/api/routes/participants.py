"""`/api/v1/games/{game_id}/participants`: join and leave a game.

A join beyond `max_players` succeeds and puts the player on the waitlist (docs/api.md);
the response says where. The service locks the game row, so two joins racing for the
last seat end with one confirmed player and one on the waitlist.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, Security

from game_scheduler.api.auth import bearer_scheme
from game_scheduler.api.deps import Context
from game_scheduler.api.errors import CONFLICT_RESPONSES
from game_scheduler.api.game_access import check_may_act_for, ownership
from game_scheduler.api.identity import CurrentCaller
from game_scheduler.api.schemas import (
    GameOut,
    JoinOut,
    JoinRequest,
    Snowflake,
    game_out,
    participant_out,
)
from game_scheduler.games import service

router = APIRouter(
    prefix="/api/v1/games/{game_id}/participants",
    tags=["participants"],
    dependencies=[Security(bearer_scheme)],
)


@router.post(
    "",
    status_code=201,
    responses=CONFLICT_RESPONSES,
    summary="Join a game",
    response_description="the participant (with `waitlist_position` when waiting) and the game",
)
def join_game(
    game_id: uuid.UUID,
    body: JoinRequest,
    context: Context,
    caller: CurrentCaller,
    response: Response,
) -> JoinOut:
    """Add a player: confirmed while seats remain, otherwise next on the waitlist."""
    check_may_act_for(caller, ownership(context.session_factory, game_id), body.user_id)
    with context.session_factory.begin() as session:
        joined = service.join_game(
            session,
            game_id,
            body.user_id,
            now=context.clock.now(),
            display_name=body.display_name,
        )
        game = joined.participant.game
        result = JoinOut(
            participant=participant_out(joined.participant, joined.waitlist_position),
            game=game_out(game, service.roster_of(game)),
        )
    response.headers["Location"] = f"/api/v1/games/{game_id}/participants/{body.user_id}"
    return result


@router.delete(
    "/{user_id}",
    responses=CONFLICT_RESPONSES,
    summary="Leave a game",
    response_description="the game after the player left; the first on the waitlist moved up",
)
def leave_game(
    game_id: uuid.UUID, user_id: Snowflake, context: Context, caller: CurrentCaller
) -> GameOut:
    """Remove a player from a game that has not started."""
    check_may_act_for(caller, ownership(context.session_factory, game_id), user_id)
    with context.session_factory.begin() as session:
        game = service.leave_game(session, game_id, user_id, now=context.clock.now())
        return game_out(game, service.roster_of(game))
