"""Helpers for the minutes tests: runtimes on the fake trackers whose people directory has two owners,
a factory for submitted minutes, and a count of every row the minutes write."""

from __future__ import annotations



