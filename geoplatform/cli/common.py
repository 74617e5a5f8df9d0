"""What every command module shares: the consoles and how settings are built."""

from __future__ import annotations

from rich.console import Console

from geoplatform.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def settings_from_env() -> Settings:
    """Settings for one command: built once here from the environment, then passed down."""
    return Settings()
