"""Config reload: parse and validate the new text first, then swap it in, in one step.

An invalid config leaves the one in force untouched; the outcome lists every problem, each
naming its key path and what is allowed. Keys the running process cannot change (where it
listens, its store, its metrics endpoint, its message size limit) are refused on reload: they
take effect on a restart only, and :data:`RESTART_ONLY` names them.

Reloads (the RPC and SIGHUP) run one at a time, each from reading its text to its swap, and
each compares with, and answers with, the config in force when it runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from matcher import metrics
from matcher.config import ConfigError, DispatchConfig, parse_config

log = logging.getLogger("homedispatch.config")

# Key paths (or whole sections) fixed for the life of the process.
RESTART_ONLY = ("server.listen", "server.max_message_bytes", "store", "metrics")


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """``applied``: the new config is in force; ``config``: the config in force afterwards;
    ``errors``: why not, one line per problem."""

    applied: bool
    config: DispatchConfig
    errors: tuple[str, ...] = ()


def apply_log_level(config: DispatchConfig) -> None:
    """Set the homedispatch loggers to ``log.level``."""
    logging.getLogger("homedispatch").setLevel(config.log.level.upper())


def restart_only_changes(old: DispatchConfig, new: DispatchConfig) -> list[str]:
    """One error per restart-only key whose value differs between ``old`` and ``new``."""
    errors = []
    before, after = old.to_dict(), new.to_dict()
    for path in RESTART_ONLY:
        section, _, key = path.partition(".")
        keys = [key] if key else sorted(after[section])
        for name in keys:
            if before[section].get(name) != after[section].get(name):
                errors.append(f"{section}.{name}: takes effect only on a restart (in force: "
                              f"{before[section].get(name)!r}, new: {after[section].get(name)!r})")
    return errors


def validate(text: str, in_force: DispatchConfig) -> tuple[DispatchConfig | None, list[str]]:
    """The config ``text`` describes, or None and every reason it cannot replace
    ``in_force``."""
    try:
        new = parse_config(text)
    except ConfigError as error:
        return None, list(error.errors)
    errors = restart_only_changes(in_force, new)
    return (None, errors) if errors else (new, [])


async def reload(engine, text: str, source: str) -> ReloadOutcome:
    """Validate ``text`` and, when it is valid, put it in force on ``engine`` (an
    :class:`~matcher.engine.Engine`). ``source`` names where the text came from, for the log."""
    async with engine.reload_lock:
        return await _put_in_force(engine, text, source)


async def reload_file(engine, path: str) -> ReloadOutcome:
    """Read the config file at ``path`` and reload from it. A file that cannot be read (gone,
    not readable, not UTF-8) is refused like an invalid one. The read is inside the reload
    lock, so reloads put in force the file's contents in the order they were asked for."""
    async with engine.reload_lock:
        try:
            text = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        except (OSError, ValueError) as error:  # ValueError: UnicodeDecodeError, a NUL in path
            return refuse(engine, path, [f"{path}: {error}"])
        return await _put_in_force(engine, text, path)


def refuse(engine, source: str, errors: list[str]) -> ReloadOutcome:
    """Log and count a reload from ``source`` that cannot be put in force."""
    in_force = engine.config_in_force
    log.warning("config reload from %s refused, %s stays in force: %s", source, in_force.hash,
                "; ".join(errors))
    metrics.RELOADS.labels("refused").inc()
    return ReloadOutcome(False, in_force, tuple(errors))


async def _put_in_force(engine, text: str, source: str) -> ReloadOutcome:
    """:func:`reload`'s work; the caller holds ``engine.reload_lock``. It compares with the
    config in force, not with :attr:`engine.config`: inside a request that is the config the
    request pinned at its start, which an earlier reload may since have replaced."""
    old = engine.config_in_force
    new, errors = validate(text, old)
    if new is None:
        return refuse(engine, source, errors)
    # by hash, not ==: configs equal by == may still hash apart, and the hash in force must be
    # the one the reply names (and later assignments carry)
    if new.hash != old.hash:
        await engine.reload(new)
        apply_log_level(new)
    in_force = engine.config_in_force
    log.info("config reload from %s: %s in force (was %s)", source, in_force.hash, old.hash)
    metrics.RELOADS.labels("applied").inc()
    metrics.config_in_force(in_force.hash)
    return ReloadOutcome(True, in_force)
