"""An open TMF state string (lifecycleStatus, status, state) over a domain state machine.

TMF leaves these strings open and TMF-CONVENTIONS.md asks that they be returned exactly
as given; our domain has a closed state machine that stays authoritative. A `StateMap`
reconciles them:

- each domain state accepts documented spellings (case-insensitive, e.g. customer
  `active` ← "Active", "approved", "validated"); the state value itself is canonical;
- a PATCH to a spelling of the current state is accepted (no transition);
- a PATCH to another state runs the domain service for that transition, or is 409 with
  the states reachable from here (`allowedValues`), also when the spelling is unknown;
- the text the client used is stored with the state it was set for (`label`,
  `label_for`); it is returned while the machine is still in that state, and the
  canonical value once anything (admin, another service) has moved it on.
"""

from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django_fsm import TransitionNotAllowed

from .errors import TmfConflictError


class StateMap:
    """Spellings of each domain state and the services that move between them."""

    def __init__(self, attribute: str, spellings: dict[str, Iterable[str]]):
        self.attribute = attribute
        self.states = list(spellings)
        self._lookup: dict[str, str] = {}
        for state, words in spellings.items():
            for word in (state, *words):
                self._lookup[word.strip().casefold()] = state

    def to_domain(self, text) -> str | None:
        """The domain state a client's text names, or None."""
        if not isinstance(text, str):
            return None
        return self._lookup.get(text.strip().casefold())

    @staticmethod
    def present(state: str, label: str, label_for: str) -> str:
        """The text to return: the client's label while it still describes the state."""
        return label if label and label_for == state else state

    @staticmethod
    def q(value: str, *, state_field: str, label_field: str, label_for_field: str) -> Q:
        """Database condition: the returned text (see `present`) equals `value`."""
        labelled = Q(**{label_field: value}) & Q(**{label_for_field: F(state_field)})
        plain = Q(**{state_field: value}) & ~Q(**{label_for_field: F(state_field)})
        return labelled | plain

    def change(
        self,
        *,
        current: str,
        text: str,
        transitions: dict[tuple[str, str], Callable[[], object]],
    ) -> str:
        """Move the machine to the state `text` names; returns that state.

        Raises TmfConflictError (409) with the reachable states when the text names no state,
        no transition leads there from `current`, or the service refuses it.
        """
        target = self.to_domain(text)
        reachable = [to for (frm, to) in transitions if frm == current]
        if target == current:
            return current
        perform = transitions.get((current, target)) if target else None
        if perform is None:
            raise TmfConflictError(
                f"{self.attribute} cannot go from “{current}” to “{text}”; "
                f"allowed: {', '.join([current, *reachable])}",
                allowed=[current, *reachable],
            )
        try:
            perform()
        except TransitionNotAllowed as exc:
            raise TmfConflictError(
                f"{self.attribute} “{current}” → “{text}” refused: {exc}",
                allowed=[current, *reachable],
            ) from exc
        except ValidationError as exc:
            raise TmfConflictError(
                f"{self.attribute} “{current}” → “{text}” refused: " + "; ".join(exc.messages),
                allowed=[current, *reachable],
            ) from exc
        return target
