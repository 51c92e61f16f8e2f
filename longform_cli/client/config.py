"""Where the CLI keeps its gateway URL and API token: $XDG_CONFIG_HOME/longform/config.json (else
~/.config/...), readable by its owner only. LONGFORM_URL and LONGFORM_TOKEN override it."""

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str | None


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "longform" / "config.json"


def load() -> Credentials:
    path = config_path()
    saved = json.loads(path.read_text()) if path.exists() else {}
    url = os.environ.get("LONGFORM_URL") or saved.get("url") or DEFAULT_URL
    return Credentials(url=url.rstrip("/"), token=os.environ.get("LONGFORM_TOKEN") or saved.get("token"))


def save(credentials: Credentials) -> Path:
    """Written to a private file first, then moved into place: never readable by others, not even
    for a moment, and never half written."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump({"url": credentials.url, "token": credentials.token}, file, indent=2)
    os.chmod(partial, 0o600)  # an older partial file may have had looser bits
    os.replace(partial, path)
    return path
