"""Widgets of the main window; each is a view that the window feeds from the session."""
