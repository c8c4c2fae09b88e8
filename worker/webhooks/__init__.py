"""Sending webhook deliveries: pinned HTTP requests, the retry schedule, the outcome."""
