"""Partnering Coach: a chatbot that coaches cross-sector partnerships."""
