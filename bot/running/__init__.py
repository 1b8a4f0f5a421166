"""Pulse at work: the update pipeline, webhook, health and metrics, logs, scheduler jobs and
the error handler."""
