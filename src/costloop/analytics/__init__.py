"""Analytics over allocated charges: showback and coverage."""
