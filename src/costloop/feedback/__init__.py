"""Feedback: realized savings of executed opportunities, measured from billing."""

from costloop.feedback.verify import VerifyOutcome, verify_executed

__all__ = ["VerifyOutcome", "verify_executed"]
