"""`shiftwork notify subscribe EMAIL`: job notifications (a definition's --notify) by email, through SNS."""

from __future__ import annotations

from typing import Annotated

import typer

from shiftwork.cli.common import StateDirOption, console, handle_errors, stack

notify_app = typer.Typer(help="Job notifications (SNS).", no_args_is_help=True)


@notify_app.command("subscribe")
@handle_errors
def subscribe(
    email: Annotated[str, typer.Argument(help="Where to send failure/success notifications.")],
    state_dir: StateDirOption = None,
) -> None:
    """Subscribe an email address to the notifications topic (SNS asks it to confirm)."""
    from shiftwork.api.service import Service

    with stack(state_dir, run_jobs=True):
        arn = Service().subscribe(email)
    console.print(f"{email} subscribed ({arn}); confirm from the email SNS sends", highlight=False)
