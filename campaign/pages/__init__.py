"""Static public pages that belong to no feature (the accessibility statement)."""
