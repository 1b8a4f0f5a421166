""" "You said, we did": who a theme or a hypothesis reaches, the update staff draft, and its
paced, confirmed sending."""
