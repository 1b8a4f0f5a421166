"""After an answer: alerts to the team and the follow-up threads that answer them."""
