"""Adapters translate a platform's requests into Turns and render Replies; they decide nothing."""
