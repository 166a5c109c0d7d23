"""See interop/__init__.py."""
