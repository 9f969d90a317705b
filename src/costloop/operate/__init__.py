"""Operate: the loop's steps as services (discover, execute, verify) and the demo run."""
