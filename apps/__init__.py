"""Applications shipped as release artifacts (OPS-7); apps/sample is the reference."""
