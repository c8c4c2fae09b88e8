"""`personalised_recommendations`: rank for a shopper (cpu), then pitch each item (gpu)."""
