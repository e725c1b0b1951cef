"""Text signals in chat messages: URLs and keywords."""
