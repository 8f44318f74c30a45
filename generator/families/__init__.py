"""Problem families: one module each, found automatically by generator.family."""
