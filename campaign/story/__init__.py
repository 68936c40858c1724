"""The campaign story: the article a campaign is built around."""
