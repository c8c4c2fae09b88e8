"""Helpers for Vitrine's clients; no dependency beyond the standard library."""

from vitrine_client.webhooks import WebhookVerificationError, sign, verify

__all__ = ["WebhookVerificationError", "sign", "verify"]
