"""People: signing in with an email link, sessions, and each person's library."""
