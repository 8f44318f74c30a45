"""gen: parametric deep-learning exam generator with exact, worked answer keys."""
