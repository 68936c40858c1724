"""The mailing list: consent-based sign-up, unsubscribe, broadcasts."""
