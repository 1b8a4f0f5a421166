"""What admin commands need that is pure: argument parsing, schedule arithmetic, wording."""
