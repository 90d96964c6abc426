"""Widgets and helpers shared by several panels (never a panel itself)."""

from __future__ import annotations
