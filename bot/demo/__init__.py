"""`pulsebot demo`: the real bot against the loopback sandbox, with a simulated past."""
