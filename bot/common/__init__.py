"""What every feature of the bot stands on: the shared context, who a person is and what
they may do, how replies and admin answers are written, argument parsing and display,
schedules, quiet hours, segment names and excerpts. Imports no feature."""
