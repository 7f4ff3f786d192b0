"""How a round's figures are counted: one query, read by the writer and by exports alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.rounds import RoundFigures

# ?1 is the round's id, the one argument, used in every count. Eligible: invited when the round
# opened; invited: the invitation was sent; started and completed count people, not runs;
# stopped: invited, and since said /stop.
ROUND_FIGURES_SQL = (
    "SELECT "
    "(SELECT COUNT(*) FROM outbox WHERE round_id = ?1 AND kind = 'invitation'), "
    "(SELECT COUNT(*) FROM outbox WHERE round_id = ?1 AND kind = 'invitation' "
    " AND status = 'sent'), "
    "(SELECT COUNT(DISTINCT participant_code) FROM runs WHERE round_id = ?1), "
    "(SELECT COUNT(DISTINCT participant_code) FROM runs WHERE round_id = ?1 "
    " AND status = 'completed'), "
    "(SELECT COUNT(*) FROM declines WHERE round_id = ?1), "
    "(SELECT COUNT(*) FROM outbox o JOIN participants p ON p.code = o.participant_code "
    " WHERE o.round_id = ?1 AND o.kind = 'invitation' AND p.status = 'stopped'), "
    "(SELECT COUNT(*) FROM outbox WHERE round_id = ?1 AND kind = 'invitation' "
    " AND status = 'failed'), "
    "(SELECT COUNT(*) FROM outbox WHERE round_id = ?1 AND kind = 'invitation' "
    " AND status IN ('pending', 'claimed'))"
)


def round_figures_from(row: Sequence[Any]) -> RoundFigures:
    """Return the figures read by ROUND_FIGURES_SQL."""
    return RoundFigures(*(int(value) for value in row))
