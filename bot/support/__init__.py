"""Support lines: where a person can get help, from one file the charity can edit."""

from bot.support.resources import (
    NATIONS,
    Resource,
    SupportError,
    SupportFile,
    load_support,
    render_support,
    review_warning,
    shipped_support_path,
)

__all__ = [
    "NATIONS",
    "Resource",
    "SupportError",
    "SupportFile",
    "load_support",
    "render_support",
    "review_warning",
    "shipped_support_path",
]
