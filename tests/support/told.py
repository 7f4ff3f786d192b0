"""A stand-in for AdminNotice that keeps what the admins would be told."""

from __future__ import annotations


class ToldAdmins:
    """Keep each text instead of sending it; say it reached one admin."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def tell(self, text: str) -> int:
        self.texts.append(text)
        return 1
