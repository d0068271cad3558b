"""One module per chapter, each calling ``register(...)`` with that chapter's exercises."""
