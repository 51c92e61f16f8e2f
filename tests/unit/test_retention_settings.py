"""Retention is off unless the operator sets a window (SPEC S1)."""

from datetime import timedelta

import pytest

from services.generator.retention import RetentionSettings

_NAMES = ("LONGFORM_RETENTION_COMPLETED_HOURS", "LONGFORM_RETENTION_FAILED_DAYS")


def test_retention_is_off_when_no_window_is_set(monkeypatch):
    for name in _NAMES:
        monkeypatch.delenv(name, raising=False)
    assert not RetentionSettings().on


def test_an_empty_setting_is_no_window(monkeypatch):
    for name in _NAMES:
        monkeypatch.setenv(name, "")
    assert not RetentionSettings().on


def test_each_window_is_read_from_its_setting(monkeypatch):
    monkeypatch.delenv("LONGFORM_RETENTION_FAILED_DAYS", raising=False)
    monkeypatch.setenv("LONGFORM_RETENTION_COMPLETED_HOURS", "48")
    settings = RetentionSettings()
    assert settings.on and settings.completed_after == timedelta(hours=48) and settings.failed_after is None
    monkeypatch.setenv("LONGFORM_RETENTION_FAILED_DAYS", "30")
    assert RetentionSettings().failed_after == timedelta(days=30)


def test_a_negative_window_is_refused(monkeypatch):
    monkeypatch.setenv("LONGFORM_RETENTION_COMPLETED_HOURS", "-1")
    with pytest.raises(ValueError):
        RetentionSettings()
