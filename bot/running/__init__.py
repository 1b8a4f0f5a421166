"""Running Pulse as a service: the update pipeline, webhook, health, logs, alarms and jobs."""
