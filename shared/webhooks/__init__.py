"""Webhooks, the parts both sides use: tenant secrets and the event outbox."""
