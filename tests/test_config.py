"""Configuration: every environment variable the app reads is documented."""

import re
from pathlib import Path

from campaign.config import ENV_BOOLS, ENV_INTS, ENV_STRINGS

README = Path(__file__).parents[1] / "README.md"


def test_the_readme_table_lists_every_environment_variable():
    rows = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", README.read_text(), re.M))
    read = {*ENV_STRINGS, *ENV_INTS, *ENV_BOOLS, "DATABASE_URL", "CAMPAIGN_ENV"}
    assert read - rows == set()
