"""Alerts and notifications: channels, routing, reliable delivery with a log."""
