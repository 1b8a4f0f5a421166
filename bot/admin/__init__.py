"""Runtime settings by admin command: checked as a whole, stored with an audit entry, put into
effect at once; /settings and the commands that change one, and /audit."""
