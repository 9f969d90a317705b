"""The web app and REST API (`costloop serve`): FastAPI over the same services as the CLI."""
