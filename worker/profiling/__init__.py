"""The `user_profile` job: behaviour features, an RFM segment and interest tags."""
