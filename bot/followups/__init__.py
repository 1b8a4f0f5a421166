"""After an answer: alerts to the team, follow-up threads, and "you said, we did" updates."""
