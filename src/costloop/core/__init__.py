"""Pure domain vocabulary: FOCUS columns, money, periods, findings and errors."""
