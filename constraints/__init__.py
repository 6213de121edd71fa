"""Pin and clock constraints of the board tops, one file per board (see pezo.hw.boards)."""
