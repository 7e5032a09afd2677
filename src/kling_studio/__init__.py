"""kling-studio."""
