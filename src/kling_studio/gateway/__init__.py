"""`kling-studio gateway`: a FoxAPI-compatible server that holds the key, knows each student and
enforces their budgets."""
