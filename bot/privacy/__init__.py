"""The customer's own controls (pause, frequency, their data) and what Pulse keeps about
a person."""
