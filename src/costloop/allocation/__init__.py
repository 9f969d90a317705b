"""Allocation: attribute every charge to owners along the taxonomy's dimensions."""

from costloop.allocation.run import AllocationResult, allocate, allocation_expr, output_columns
from costloop.core.allocation_rules import UNALLOCATED

__all__ = ["UNALLOCATED", "AllocationResult", "allocate", "allocation_expr", "output_columns"]
