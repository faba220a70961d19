"""The inbound robot's understanding of a turn, its words, and the desk that runs a call's
dialogue on the engine (recording every turn)."""
