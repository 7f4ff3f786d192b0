"""The conversations in use: the current files, and every stored version still running."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from conversations.loader import (
    LoadedFlow,
    flow_from_json,
    flow_to_json,
    load_flow_dir,
    shipped_flows_dir,
)
from conversations.model import Flow
from conversations.problems import FlowError
from storage.repository import Repository


class FlowLibrary:
    """Find a flow by id and version, from the files or, for older versions, the database."""

    def __init__(self, loaded: list[LoadedFlow], repository: Repository) -> None:
        self.current: dict[str, LoadedFlow] = {item.flow.id: item for item in loaded}
        self._repository = repository
        self._versions: dict[tuple[str, int], Flow] = {
            (item.flow.id, item.flow.version): item.flow for item in loaded
        }

    @classmethod
    def load(cls, folder: Path | None, repository: Repository) -> FlowLibrary:
        """Load every conversation file in a folder (the shipped ones by default)."""
        loaded, problems = load_flow_dir(folder or shipped_flows_dir())
        errors = [problem for problem in problems if problem.severity == "error"]
        if errors:
            raise FlowError(errors)
        return cls(loaded, repository)

    async def register(self, now: datetime) -> None:
        """Store each current version; raises FlowVersionConflict for a changed, same version."""
        for item in self.current.values():
            await self._repository.register_flow(
                item.flow.id, item.flow.version, item.content_hash, flow_to_json(item.flow), now
            )

    def latest(self, flow_id: str) -> Flow | None:
        """Return the current version of a flow, if there is a file for it."""
        item = self.current.get(flow_id)
        return None if item is None else item.flow

    async def version(self, flow_id: str, version: int) -> Flow | None:
        """Return a particular version, reading older ones from the database."""
        found = self._versions.get((flow_id, version))
        if found is None:
            definition = await self._repository.flow_definition(flow_id, version)
            if definition is None:
                return None
            found = flow_from_json(definition)
            self._versions[(flow_id, version)] = found
        return found
