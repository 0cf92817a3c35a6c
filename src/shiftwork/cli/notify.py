"""`shiftwork notify subscribe EMAIL`: job notifications (a definition's --notify) by email, through SNS."""

from __future__ import annotations

from typing import Annotated

import typer

from shiftwork.cli.common import JsonOption, StateDirOption, backend, console, handle_errors, stack

notify_app = typer.Typer(help="Job notifications (SNS).", no_args_is_help=True)


@notify_app.command("subscribe")
@handle_errors
def subscribe(
    email: Annotated[str, typer.Argument(help="Where to send failure/success notifications.")],
    state_dir: StateDirOption = None,
) -> None:
    """Subscribe an email address to the notifications topic (SNS asks it to confirm)."""
    with stack(state_dir, run_jobs=True):
        arn = backend(state_dir).subscribe(email)
    console.print(f"{email} subscribed ({arn}); confirm from the email SNS sends", highlight=False)


@notify_app.command("list")
@handle_errors
def list_subscriptions(as_json: JsonOption = False, state_dir: StateDirOption = None) -> None:
    """Who gets notifications."""
    import json

    from rich.table import Table

    with stack(state_dir):
        found = backend(state_dir).subscriptions()
    if as_json:
        print(json.dumps(found, indent=2))
        return
    if not found:
        console.print("nobody yet: shiftwork notify subscribe EMAIL")
        return
    table = Table(show_edge=False, header_style="bold")
    for column in ("Protocol", "Endpoint", "Subscription"):
        table.add_column(column)
    for item in found:
        table.add_row(item["protocol"], item["endpoint"], item["subscription_arn"])
    console.print(table)
