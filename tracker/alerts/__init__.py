"""E-mail alerts for residents: subscriptions with double opt-in, matching, digests, sending."""
