"""Static public pages that belong to no feature (the accessibility statement,
the privacy page generated from the retention settings)."""
