"""Cocreate's Flask face: the app factory, tracker webhook receivers, CS pages, JSON API and CLI."""
