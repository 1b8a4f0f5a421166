"""Sending: the one outbound path, bulk delivery, retries, quiet hours and the HTTP transport."""
