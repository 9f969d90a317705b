"""Allocation: attribute every charge to an owner (the ``team`` dimension for now)."""

from costloop.allocation.team import AllocationResult, allocate, team_expression

__all__ = ["AllocationResult", "allocate", "team_expression"]
